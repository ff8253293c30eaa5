import { BridgeError } from '@auphonic-bridge/runtime';

/** A worker-side failure; `retryable` says whether a later attempt may fix it. */
export class IngestError extends BridgeError {
  readonly retryable: boolean;
  /** A server's Retry-After behind it (a download's): the job's backoff honours it. */
  readonly retryAfterMs: number | undefined;

  constructor(code: IngestErrorCode, message: string, opts: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(code, message, { cause: opts.cause });
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export type IngestErrorCode =
  | 'ERR_BAD_JOB'
  | 'ERR_NO_CREDENTIALS'
  | 'ERR_NEEDS_REAUTH'
  | 'ERR_DECRYPT'
  | 'ERR_PRODUCTION_NOT_FINISHED'
  | 'ERR_PRODUCTION_CHANGED'
  /** BullMQ failed the job without running it: it stalled past maxStalledCount. */
  | 'ERR_JOB_STALLED'
  /** Outputs failed in this attempt (transfer, size, checksum): the next one retries only those. */
  | 'ERR_OUTPUTS_FAILED';

/** Auphonic says the production is not Done or Error: it was changed or restarted since its webhook. */
export class ProductionRunningError extends IngestError {
  constructor(statusString: string) {
    super('ERR_PRODUCTION_NOT_FINISHED', `Auphonic says the production is still running (${statusString})`, {
      retryable: true,
    });
  }
}

/** The production was re-rendered while we stored it: the next attempt starts from its new details. */
export class ProductionChangedError extends IngestError {
  constructor() {
    super('ERR_PRODUCTION_CHANGED', 'the production changed while it was being stored', { retryable: true });
  }
}
