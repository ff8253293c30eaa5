import type { PendingRepeats, ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import { type Job, WaitingError } from 'bullmq';
import { EventNotQueuedError, IngestError } from './errors.ts';
import { giveUp, jobVerdict } from './fate.ts';
import { type IngestDeps, ingestProduction, recordFailure } from './ingest-production.ts';
import type { ProgressWatch } from './progress-watch.ts';
import type { RecordOutcome } from './record.ts';

/** Why a job's signal was aborted. */
export const CANCEL = {
  /** The shutdown deadline passed: the job goes back to the queue untouched. */
  shutdown: 'released on shutdown',
  /** Another worker holds the job now: stop touching its files at once. */
  lockLost: 'lock lost',
} as const;

export interface ProductionJobOptions {
  retryForMs: number;
  progress: ProgressWatch;
  onRelease?: () => void;
  onRecorded?: (outcome: ProductionJobResult['outcome']) => void;
  /** For a job that is not the production's own (requeueIfNotHeld): the id of the job queued instead. */
  requeueIfNotHeld?: (job: Job<ProductionJobData, ProductionJobResult>) => Promise<string | null>;
  /** What repeats left pending beside the job (readPendingRepeats), read at each attempt. */
  pending?: (job: Job<ProductionJobData, ProductionJobResult>) => Promise<PendingRepeats>;
}

/**
 * BullMQ's view of a production job: the retry budget (RETRY_FOR, counted
 * from when the job was queued), giving up with a record that says why,
 * progress, and releasing a job on shutdown (no attempt counted).
 */
export function createProductionProcessor(deps: IngestDeps, logger: Logger, opts: ProductionJobOptions) {
  return async (job: Job<ProductionJobData, ProductionJobResult>, token?: string, signal?: AbortSignal): Promise<ProductionJobResult> => {
    const jobId = job.id ?? '';
    const ageMs = Date.now() - job.timestamp;
    const lastChance = ageMs >= opts.retryForMs;
    const log = logger.child({ uuid: job.data.uuid, jobId, attempt: job.attemptsMade + 1 });
    // Outside the verdicts below: a requeue that fails is retried, never taken for the production failing.
    const requeuedAs = await opts.requeueIfNotHeld?.(job).catch((err: unknown) => {
      throw new Error(`could not queue the production anew: ${(err as Error).message}`);
    });
    if (requeuedAs) {
      log.info({ requeuedAs }, "not the production's own job (retried by hand): queued anew, with a retry budget of its own");
      return { uuid: job.data.uuid, outcome: 'requeued', files: 0, bytes: 0, requeuedAs };
    }
    opts.progress.started(jobId);
    let reported = 0;
    let data = job.data;
    let pending: PendingRepeats | undefined;
    // Once the job has completed: a repeat that came meanwhile stays for the next run (as all stays, should it give up).
    const settle = () => pending?.settle().catch((e: unknown) => log.warn({ err: e }, 'could not clear what repeats left pending'));
    try {
      pending = await opts.pending?.(job);
      data = pending?.data ?? data;
      const result = await ingestProduction(deps, data, {
        log,
        signal,
        lastChance,
        waitingForMs: job.data.waitingSince ? Date.now() - Date.parse(job.data.waitingSince) : 0,
        onProgress: (progress) => {
          const now = Date.now();
          opts.progress.moved(jobId, now);
          if (now - reported < 1_000) return;
          reported = now;
          void job.updateProgress(progress).catch(() => {});
        },
      });
      opts.onRecorded?.(result.outcome);
      await settle();
      return result;
    } catch (err) {
      if (signal?.aborted && signal.reason === CANCEL.shutdown) {
        await job.moveToWait(token);
        opts.onRelease?.();
        log.warn('shutdown deadline reached; job released to the queue');
        throw new WaitingError();
      }
      if (signal?.aborted && signal.reason === CANCEL.lockLost) {
        log.warn('another worker took this job over; stopped');
        throw err;
      }
      const verdict = jobVerdict(err, { lastChance, ageMs });
      const code = (err as { code?: unknown }).code;
      if (verdict.kind === 'settle') {
        log.info({ code }, verdict.why);
        return { uuid: job.data.uuid, outcome: 'not-finished', files: 0, bytes: 0 };
      }
      if (verdict.kind === 'give-up') {
        let eventLost: EventNotQueuedError | undefined;
        const recorded = await recordFailure(deps.storage, data, err, deps.onRecorded).catch((e: unknown) => {
          if (e instanceof EventNotQueuedError) eventLost = e;
          return failedRecording(log)(e);
        });
        // A final record told again is not counted again.
        if (recorded) opts.onRecorded?.(recorded);
        if (eventLost) {
          // Its record stands; the next attempt only queues its event again (the same webhook-id).
          log.warn({ code, final: false }, `gave up and recorded why; its event is queued on the next attempt: ${(err as Error).message}`);
          throw eventLost;
        }
        log.warn({ code, final: true }, `giving up: ${(err as Error).message}`);
        throw giveUp(err);
      }
      // Waiting on what Auphonic may still bring: from now, the first time (the patience is counted from the first look).
      if (err instanceof IngestError && err.waiting && !job.data.waitingSince) {
        await job.updateData({ ...job.data, waitingSince: new Date().toISOString() }).catch(() => {});
      }
      log.warn({ code, final: false }, `attempt failed: ${(err as Error).message}`);
      throw err;
    } finally {
      opts.progress.finished(jobId);
    }
  };
}

/**
 * BullMQ fails a job that stalled more than maxStalledCount times (its worker
 * died, or its event loop was blocked, during each attempt) on its next take,
 * without running the processor: the 'failed' event is the one place left to
 * record why, so that the host's system hears of it too.
 */
export function recordStalledFailures(deps: IngestDeps, logger: Logger, opts: Pick<ProductionJobOptions, 'onRecorded'>) {
  return (job: Job<ProductionJobData, ProductionJobResult> | undefined): void => {
    if (!job?.deferredFailure) return;
    const err = new IngestError(
      'ERR_JOB_STALLED',
      `the job stalled too often (its worker died or was blocked during each attempt): ${job.deferredFailure}`,
      { retryable: false },
    );
    void recordFailure(deps.storage, job.data, err, deps.onRecorded)
      .catch(failedRecording(logger.child({ uuid: job.data.uuid, jobId: job.id })))
      .then((recorded) => recorded && opts.onRecorded?.(recorded));
  };
}

/** What a give-up recorded when recording it failed part way: a record stored without its event still counts. */
function failedRecording(log: Logger) {
  return (err: unknown): RecordOutcome | null => {
    if (err instanceof EventNotQueuedError) {
      log.warn({ err: err.cause, code: err.code }, 'recorded the failure, but could not queue its event for the host');
      return err.outcome;
    }
    log.warn({ err }, 'could not record the failure');
    return null;
  };
}
