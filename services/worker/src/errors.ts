import { BridgeError } from '@auphonic-bridge/runtime';
import type { RecordOutcome } from './record.ts';

/** A worker-side failure; `retryable` says whether a later attempt may fix it. */
export class IngestError extends BridgeError {
  readonly retryable: boolean;
  /** A server's Retry-After behind it (a download's): the job's backoff honours it. */
  readonly retryAfterMs: number | undefined;
  /** All that failed is what Auphonic may still bring: looked for NOT_FINISHED_PATIENCE_MS, not RETRY_FOR. */
  readonly waiting: boolean;

  constructor(
    code: IngestErrorCode,
    message: string,
    opts: { retryable: boolean; retryAfterMs?: number; cause?: unknown; waiting?: boolean },
  ) {
    super(code, message, { cause: opts.cause });
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.waiting = opts.waiting === true;
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
  /** A Done production's details list no output files at all: looked at again until the last chance. */
  | 'ERR_NO_OUTPUTS'
  /** Outputs failed in this attempt (transfer, size, checksum): the next one retries only those. */
  | 'ERR_OUTPUTS_FAILED'
  /** A give-up's record was written (or stood already) but its event for the host could not be queued. */
  | 'ERR_EVENT_NOT_QUEUED';

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

/** recordFailure's record is in storage; only its event failed (Redis failing over, say): `outcome`, what was recorded, if anything new. */
export class EventNotQueuedError extends IngestError {
  readonly outcome: RecordOutcome | null;
  constructor(outcome: RecordOutcome | null, cause: unknown) {
    super('ERR_EVENT_NOT_QUEUED', `the record is stored, but its event could not be queued: ${(cause as Error)?.message ?? cause}`, {
      retryable: true,
      cause,
    });
    this.outcome = outcome;
  }
}
