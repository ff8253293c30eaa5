import { addProductionJob, createProductionQueue, type Owner } from '@auphonic-bridge/queue';
import type { Redis } from 'ioredis';
import { queueUnavailable } from './errors.ts';

export interface Enqueuer {
  enqueueProduction(job: { uuid: string; owner: Owner; reportedStatus: number | null }): Promise<void>;
  close(): Promise<void>;
}

/** Adds production jobs; fails fast (503 upstream) when Redis cannot take them. */
export function createEnqueuer(connection: Redis, opts: { timeoutMs: number }): Enqueuer {
  const queue = createProductionQueue(connection);
  // Without a listener an 'error' event would crash the process; the caller sees failures on add().
  queue.on('error', () => {});
  return {
    async enqueueProduction(job) {
      const add = addProductionJob(queue, job);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('enqueue timed out')), opts.timeoutMs);
      });
      try {
        await Promise.race([add, timeout]);
      } catch (err) {
        add.catch(() => {});
        throw Object.assign(queueUnavailable(), { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => queue.close(),
  };
}
