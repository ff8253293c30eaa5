import { addProductionJob, type Owner, type ProductionJobResult, type ProductionQueue, QUEUES } from '@auphonic-bridge/queue';
import { Job, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueUnavailable } from './errors.ts';

export interface Enqueuer {
  /** Resolves with the job's id once it is in Redis; 503 error when Redis cannot take it. */
  enqueueProduction(job: {
    uuid: string;
    owner: Owner;
    reportedStatus: number | null;
    customData?: unknown;
    force?: boolean;
  }): Promise<string>;
  /** The job's result if it completes within timeoutMs, else undefined. */
  waitForResult(jobId: string, timeoutMs: number): Promise<ProductionJobResult | undefined>;
  close(): Promise<void>;
}

/** Adds production jobs; fails fast (503 upstream) when Redis cannot take them. */
export function createEnqueuer(queue: ProductionQueue, connection: Redis, opts: { timeoutMs: number; waitForAof?: boolean }): Enqueuer {
  let events: QueueEvents | undefined;
  let eventsConnection: Redis | undefined;
  const durable = async (job: Parameters<Enqueuer['enqueueProduction']>[0]) => {
    const added = await addProductionJob(queue, job);
    if (opts.waitForAof) {
      // WAITAOF numlocal numreplicas timeout: answered once this connection's writes are fsynced locally.
      const [local] = (await connection.call('WAITAOF', 1, 0, opts.timeoutMs)) as [number, number];
      if (local < 1) throw new Error('the job was not fsynced in time');
    }
    return added.id as string;
  };
  return {
    async enqueueProduction(job) {
      const work = durable(job);
      const timedOut = AbortSignal.timeout(opts.timeoutMs);
      const late = new Promise<never>((_, reject) =>
        timedOut.addEventListener('abort', () => reject(new Error('enqueue timed out')), { once: true }),
      );
      // Whichever loses the race settles later, unobserved.
      work.catch(() => {});
      late.catch(() => {});
      try {
        return await Promise.race([work, late]);
      } catch (err) {
        throw Object.assign(queueUnavailable(), { cause: err });
      }
    },
    async waitForResult(jobId, timeoutMs) {
      try {
        // A blocking connection of its own, made only when someone waits.
        if (!events) {
          eventsConnection = connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
          events = new QueueEvents(QUEUES.productions, { connection: eventsConnection, prefix: queue.opts.prefix });
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
