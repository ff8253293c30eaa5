import { createReconcileQueue, QUEUES, RECONCILE_JOB_NAMES, type ReconcileJobData, type RedisConnection } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import { type Job, Worker } from 'bullmq';
import { type ReconcileDeps, type ReconcileReport, reconcile } from './reconcile.ts';

/**
 * The reconcile queue and its one-at-a-time worker. A job scheduler fires the
 * round over every owner each interval (whichever worker takes it); the
 * ingress adds a round for one connection when it was authorised again. Each
 * scheduled round also sweeps what dead workers left in storage.
 */
export function createReconciler(
  connection: RedisConnection,
  deps: ReconcileDeps,
  logger: Logger,
  opts: { prefix?: string; onSwept?: (n: number) => void } = {},
) {
  const queue = createReconcileQueue(connection, { prefix: opts.prefix });
  const log = logger.child({ queue: QUEUES.reconcile });
  const run = async (job: Job<ReconcileJobData>): Promise<ReconcileReport & { swept?: number }> => {
    if (job.name === RECONCILE_JOB_NAMES.connection && 'connectionId' in job.data) {
      return reconcile(deps, log, { onlyConnection: job.data.connectionId });
    }
    const report = await reconcile(deps, log);
    const swept = await deps.storage.sweep();
    if (swept > 0) log.info({ swept }, 'removed what dead workers left in storage');
    opts.onSwept?.(swept);
    return { ...report, swept };
  };
  const worker = new Worker<ReconcileJobData>(QUEUES.reconcile, run, { connection, prefix: opts.prefix, autorun: false, concurrency: 1 });
  worker.on('error', (err) => log.error({ err: { message: err.message } }, 'reconciler error'));
  let running: Promise<void> | undefined;
  return {
    queue,
    async start(intervalMs: number): Promise<void> {
      // Every worker upserts the same scheduler: one round per interval, whoever takes it.
      if (intervalMs > 0) await queue.upsertJobScheduler('reconcile', { every: intervalMs }, { name: RECONCILE_JOB_NAMES.everyone });
      running = worker.run();
    },
    async close(): Promise<void> {
      await worker.close();
      await running;
      await queue.close();
    },
  };
}
