import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type Owner,
  PRODUCTION_JOB_OPTIONS,
  type ProductionJobData,
  type ProductionJobResult,
  productionDedupId,
  QUEUES,
} from './contract.ts';

export type ProductionQueue = Queue<ProductionJobData, ProductionJobResult>;

export function createProductionQueue(connection: Redis): ProductionQueue {
  const queue: ProductionQueue = new Queue(QUEUES.productions, { connection, defaultJobOptions: PRODUCTION_JOB_OPTIONS });
  // Callers see failures on add(); without a listener an 'error' event would crash the process.
  queue.on('error', () => {});
  return queue;
}

/**
 * Queues a production for ingest. Deduplicated per owner and uuid: a repeat
 * while the job waits adds nothing; one while it runs is kept to run after it.
 */
export function addProductionJob(
  queue: ProductionQueue,
  job: { uuid: string; owner: Owner; reportedStatus: number | null; customData?: unknown },
): Promise<Job<ProductionJobData, ProductionJobResult>> {
  const data: ProductionJobData = { ...job, receivedAt: new Date().toISOString() };
  return queue.add('production', data, {
    deduplication: { id: productionDedupId(job.owner, job.uuid), keepLastIfActive: true },
  });
}
