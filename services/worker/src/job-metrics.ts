import type { WorkerMetrics } from '@auphonic-bridge/metrics';
import type { ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { Worker } from 'bullmq';
import { failedForGood } from './fate.ts';

/** Counts what a worker's jobs end in, and logs the ones that fail for good. */
export function observeJobs(worker: Worker<ProductionJobData, ProductionJobResult>, metrics: WorkerMetrics, logger: Logger): void {
  const queue = worker.name;
  const duration = (job: { processedOn?: number; finishedOn?: number }) =>
    ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
  worker.on('completed', (job) => {
    // Not the production's own job (retried by hand): queued anew, the production's work counted there.
    if (job.returnvalue?.outcome === 'requeued') return void metrics.jobsProcessed.inc({ queue, outcome: 'requeued' });
    metrics.jobsProcessed.inc({ queue, outcome: 'completed' });
    metrics.jobDuration.observe({ queue, outcome: 'completed' }, duration(job));
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    if (failedForGood(job, err)) {
      metrics.jobsProcessed.inc({ queue, outcome: 'failed' });
      metrics.jobDuration.observe({ queue, outcome: 'failed' }, duration(job));
      logger.error({ uuid: job.data.uuid, jobId: job.id, attemptsMade: job.attemptsMade }, `production failed for good: ${err.message}`);
    } else {
      metrics.jobRetries.inc({ queue });
    }
  });
  worker.on('error', (err) => logger.error({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'worker error'));
}
