import { BridgeError } from '@auphonic-bridge/runtime';
import { UnrecoverableError } from 'bullmq';

/** A worker-side failure; `retryable` decides between backoff and giving up. */
export class IngestError extends BridgeError {
  readonly retryable: boolean;

  constructor(code: IngestErrorCode, message: string, opts: { retryable: boolean }) {
    super(code, message);
    this.retryable = opts.retryable;
  }
}

export type IngestErrorCode =
  | 'ERR_BAD_JOB'
  | 'ERR_PRODUCTION_NOT_FINISHED'
  | 'ERR_UNSAFE_OUTPUT'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_CHECKSUM_MISMATCH'
  | 'ERR_RANGE_MISMATCH'
  | 'ERR_NO_CREDENTIALS'
  | 'ERR_NEEDS_REAUTH';

/**
 * What BullMQ should see: UnrecoverableError for what no retry can fix, the
 * error itself (with any retryAfterMs for the backoff) for the rest.
 */
export function toJobError(err: unknown): Error {
  const retryable = (err as { retryable?: unknown })?.retryable;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (retryable === false) return new UnrecoverableError(`${typeof code === 'string' ? `${code}: ` : ''}${message}`);
  return err instanceof Error ? err : new Error(message);
}
