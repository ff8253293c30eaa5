import { Queue } from 'bullmq';
import { QUEUES, RECONCILE_JOB_NAMES, RECONCILE_JOB_OPTIONS, type ReconcileJobData } from './contract.ts';
import type { RedisConnection } from './redis.ts';

export type ReconcileQueue = Queue<ReconcileJobData>;

export function createReconcileQueue(connection: RedisConnection, opts: { prefix?: string } = {}): ReconcileQueue {
  const queue: ReconcileQueue = new Queue(QUEUES.reconcile, { connection, prefix: opts.prefix, defaultJobOptions: RECONCILE_JOB_OPTIONS });
  // Callers see failures on add(); without a listener an 'error' event would crash the process.
  queue.on('error', () => {});
  return queue;
}

/** Looks for one connection's finished productions that were missed (e.g. while it needed re-authorisation). */
export function addConnectionReconcile(queue: ReconcileQueue, connectionId: string) {
  return queue.add(RECONCILE_JOB_NAMES.connection, { connectionId }, { deduplication: { id: `connection-${connectionId}` } });
}
