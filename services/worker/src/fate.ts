import { AuphonicError, DownloadMismatchError, isCredentialRefusal } from '@auphonic-bridge/auphonic';
import { StorageError } from '@auphonic-bridge/storage';
import { type Job, UnrecoverableError } from 'bullmq';
import { IngestError, ProductionChangedError, ProductionRunningError } from './errors.ts';
import type { OutputRecord } from './record.ts';

/*
 * The one place that decides what a failure means: for one output (refused
 * for good, or failed and retried), and for a job (retry, give up, or settle).
 */

/** A production still running this long after its webhook was restarted since: its next Done brings a new webhook. */
export const NOT_FINISHED_PATIENCE_MS = 15 * 60_000;

/** Errors that concern the whole production, not one of its outputs. */
function concernsProduction(err: unknown): boolean {
  return isCredentialRefusal(err) || err instanceof ProductionChangedError || (err instanceof Error && err.name === 'AbortError');
}

/**
 * What becomes of an output whose download failed. Bytes that fail the same
 * check twice, identical to the byte, will fail it forever: refused. A
 * checksum is then not the MD5 of what Auphonic serves, and the reason names
 * the setting that helps.
 */
export function outputFailure(
  err: unknown,
  previous: OutputRecord | undefined,
): Pick<OutputRecord, 'fate' | 'code' | 'reason' | 'received'> {
  if (concernsProduction(err)) throw err;
  if (err instanceof DownloadMismatchError) {
    const seen = previous?.fate === 'failed' && previous.code === err.code ? previous.received : undefined;
    // Alike only when both were hashed whole: an overrun stops before the end, its MD5 unknown (null).
    if (seen && seen.size === err.actual.size && seen.md5 !== null && seen.md5 === err.actual.md5) {
      const hint =
        err.code === 'ERR_CHECKSUM_MISMATCH'
          ? ": Auphonic's checksum is not their MD5 here (VERIFY_CHECKSUMS=false stores such files unverified)"
          : ': Auphonic announces another size than it serves';
      return { fate: 'refused', code: err.code, reason: `${err.message}, twice for the very same bytes${hint}`, received: err.actual };
    }
    return { fate: 'failed', code: err.code, reason: err.message, received: err.actual };
  }
  if (err instanceof AuphonicError || err instanceof StorageError || err instanceof IngestError) {
    return { fate: err.retryable ? 'failed' : 'refused', code: err.code, reason: err.message };
  }
  return { fate: 'failed', code: 'ERR_UNEXPECTED', reason: err instanceof Error ? err.message : String(err) };
}

export type JobVerdict =
  /** Try again after the backoff. */
  | { kind: 'retry' }
  /** Nothing more to do, and nothing wrong: the job completes. */
  | { kind: 'settle'; why: string }
  /** For good: record why, and fail the job. */
  | { kind: 'give-up' };

/**
 * A job's attempt failed. `lastChance` is true once the retry budget
 * (RETRY_FOR) is spent; `ageMs` is how long ago the job was queued.
 */
export function jobVerdict(err: unknown, ctx: { lastChance: boolean; ageMs: number }): JobVerdict {
  if (err instanceof ProductionRunningError) {
    if (ctx.ageMs < NOT_FINISHED_PATIENCE_MS && !ctx.lastChance) return { kind: 'retry' };
    return { kind: 'settle', why: 'the production is running again at Auphonic; its next Done brings a new webhook' };
  }
  const retryable = err instanceof AuphonicError || err instanceof StorageError || err instanceof IngestError ? err.retryable : true;
  if (!retryable || isCredentialRefusal(err)) return { kind: 'give-up' };
  return ctx.lastChance ? { kind: 'give-up' } : { kind: 'retry' };
}

/** Whether a job that emitted 'failed' failed for good (the processor gives up with UnrecoverableError). */
export function failedForGood(job: Pick<Job, 'attemptsMade' | 'opts'>, err: Error): boolean {
  return err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** The error BullMQ should see when giving up: its message names the code. */
export function giveUp(err: unknown): UnrecoverableError {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new UnrecoverableError(`${typeof code === 'string' ? `${code}: ` : ''}${message}`);
}
