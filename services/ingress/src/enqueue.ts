import { addProductionJob, type Owner, type ProductionJobResult, type ProductionQueue, QUEUES } from '@auphonic-bridge/queue';
import { Job, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueUnavailable } from './errors.ts';

export interface Enqueuer {
  /** Resolves with the job's id once it is in Redis; 503 error when Redis cannot take it. */
  enqueueProduction(job: { uuid: string; owner: Owner; reportedStatus: number | null; customData?: unknown }): Promise<string>;
  /** The job's result if it completes within timeoutMs, else undefined. */
  waitForResult(jobId: string, timeoutMs: number): Promise<ProductionJobResult | undefined>;
  close(): Promise<void>;
}

/** Adds production jobs; fails fast (503 upstream) when Redis cannot take them. */
export function createEnqueuer(queue: ProductionQueue, connection: Redis, opts: { timeoutMs: number }): Enqueuer {
  let events: QueueEvents | undefined;
  let eventsConnection: Redis | undefined;
  return {
    async enqueueProduction(job) {
      const add = addProductionJob(queue, job);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('enqueue timed out')), opts.timeoutMs);
      });
      try {
        const added = await Promise.race([add, timeout]);
        return added.id as string;
      } catch (err) {
        add.catch(() => {});
        throw Object.assign(queueUnavailable(), { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    async waitForResult(jobId, timeoutMs) {
      try {
        // A blocking connection of its own, made only when someone waits.
        if (!events) {
          eventsConnection = connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
          events = new QueueEvents(QUEUES.productions, { connection: eventsConnection });
          events.on('error', () => {});
        }
        const job = await Job.fromId<unknown, ProductionJobResult>(queue, jobId);
        return job ? await job.waitUntilFinished(events, timeoutMs) : undefined;
      } catch {
        // Not finished in time, or failed: the webhook is answered without the file link.
        return undefined;
      }
    },
    async close() {
      await events?.close();
      // BullMQ leaves a connection it was given open.
      eventsConnection?.disconnect();
    },
  };
}
