import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, RECONCILE_CONNECTION_JOB, type ReconcileConnectionJobData } from './contract.ts';

export type ReconcileQueue = Queue<ReconcileConnectionJobData>;

/** The producer side of the `reconcile` queue (its consumer is the worker's reconciler). */
export function createReconcileQueue(connection: Redis): ReconcileQueue {
  return new Queue(QUEUES.reconcile, {
    connection,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    },
  });
}

/** Asks for a catch-up of one connection's productions; one waiting per connection at a time. */
export function addReconcileConnectionJob(queue: ReconcileQueue, connectionId: string): Promise<Job<ReconcileConnectionJobData>> {
  return queue.add(RECONCILE_CONNECTION_JOB, { connectionId }, { deduplication: { id: `connection-${connectionId}` } });
}
