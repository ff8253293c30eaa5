import type { ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import { type Job, WaitingError } from 'bullmq';
import { toJobError } from './errors.ts';
import { type IngestDeps, ingestProduction } from './process-production.ts';

/** The reason given to cancelAllJobs() when the shutdown deadline passes. */
export const RELEASE_ON_SHUTDOWN = 'released on shutdown';

/**
 * BullMQ's view of a production job: logging, progress, and turning failures
 * into retry-or-give-up. A job cancelled for shutdown goes back to the queue
 * untouched (no attempt counted) for another worker to take.
 */
export function createProductionProcessor(deps: IngestDeps, logger: Logger, onRelease: () => void = () => {}) {
  return async (job: Job<ProductionJobData, ProductionJobResult>, token?: string, signal?: AbortSignal): Promise<ProductionJobResult> => {
    const log = logger.child({ uuid: job.data.uuid, jobId: job.id, attempt: job.attemptsMade + 1 });
    try {
      return await ingestProduction(deps, job.data, {
        log,
        signal,
        onProgress: (progress) => void job.updateProgress(progress).catch(() => {}),
      });
    } catch (err) {
      if (signal?.aborted && signal.reason === RELEASE_ON_SHUTDOWN) {
        await job.moveToWait(token);
        onRelease();
        log.warn('shutdown deadline reached; job released to the queue');
        throw new WaitingError();
      }
      const jobError = toJobError(err);
      log.warn(
        {
          code: (err as { code?: unknown }).code,
          final: jobError.name === 'UnrecoverableError' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        },
        `attempt failed: ${jobError.message}`,
      );
      throw jobError;
    }
  };
}
