import { outcomeOf, type ProductionSummary } from '@auphonic-bridge/auphonic';
import type { ConnectionStore } from '@auphonic-bridge/connections';
import { addProductionJob, type Owner, type ProductionQueue, QUEUES } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { StorageDriver } from '@auphonic-bridge/storage';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Credentials } from './credentials.ts';
import { productionPrefix, recordKey } from './storage-layout.ts';

export interface ReconcileDeps {
  credentials: (owner: Owner) => Promise<Credentials>;
  /** Whether production webhooks of the API-key account are served here. */
  hasAccount: boolean;
  connections: ConnectionStore | null;
  storage: StorageDriver;
  queue: ProductionQueue;
  /** How many of each owner's newest productions to look at. */
  limit: number;
}

interface Target {
  owner: Owner;
  /** For a connection: the service its productions select. */
  serviceUuid: string | null;
}

/**
 * Was the production meant for this bridge? The account's when its webhook
 * is one of our production-webhook URLs; a connection's when it selected
 * that connection's service. Undefined when the answer lacks the field.
 */
function isOurs(target: Target, p: Record<string, unknown>): boolean | undefined {
  if (target.owner.kind === 'account')
    return typeof p.webhook === 'string' ? p.webhook.includes('/webhooks/auphonic/') : p.webhook === null ? false : undefined;
  return 'service' in p ? p.service === target.serviceUuid : undefined;
}

/**
 * The safety net for webhooks that never came (Auphonic's retries are
 * undocumented): for each owner, the newest finished productions that are
 * ours and not stored in their current version get a production job. The
 * production queue's deduplication and the record's fingerprint keep a
 * production that is already on its way from being downloaded twice.
 */
export async function reconcile(deps: ReconcileDeps, log: Logger): Promise<{ owners: number; checked: number; queued: number }> {
  const targets: Target[] = deps.hasAccount ? [{ owner: { kind: 'account' }, serviceUuid: null }] : [];
  for (const c of (await deps.connections?.list()) ?? []) {
    if (c.status === 'connected' && c.serviceUuid) targets.push({ owner: { kind: 'connection', id: c.id }, serviceUuid: c.serviceUuid });
  }
  let checked = 0;
  let queued = 0;
  for (const target of targets) {
    const tlog = log.child({ owner: target.owner });
    let credentials: Credentials;
    let list: ProductionSummary[];
    try {
      credentials = await deps.credentials(target.owner);
      list = await credentials.client.listProductions({ limit: deps.limit });
    } catch (err) {
      tlog.warn({ code: (err as { code?: unknown }).code }, `reconcile skipped an owner: ${(err as Error).message}`);
      continue;
    }
    for (const summary of list) {
      if (outcomeOf(summary.status) === 'running') continue;
      checked += 1;
      const record = (await deps.storage.readJson(recordKey(productionPrefix(target.owner, summary.uuid)))) as {
        production?: { change_time?: string };
      } | null;
      if (record && record.production?.change_time === summary.change_time) continue;
      let ours = isOurs(target, summary);
      if (ours === undefined) ours = isOurs(target, await credentials.client.getProduction(summary.uuid));
      if (!ours) continue;
      await addProductionJob(deps.queue, { uuid: summary.uuid, owner: target.owner, reportedStatus: summary.status });
      queued += 1;
      tlog.info({ uuid: summary.uuid }, 'finished production not stored yet; queued by the reconciler');
    }
  }
  return { owners: targets.length, checked, queued };
}

/** The reconcile queue and its one-at-a-time worker; a job scheduler fires it every interval. */
export function createReconciler(connection: Redis, deps: ReconcileDeps, logger: Logger) {
  const queue = new Queue(QUEUES.reconcile, {
    connection,
    defaultJobOptions: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  });
  queue.on('error', () => {});
  const log = logger.child({ queue: QUEUES.reconcile });
  const worker = new Worker(QUEUES.reconcile, () => reconcile(deps, log), { connection, autorun: false, concurrency: 1 });
  worker.on('error', (err) => log.error({ err: { message: err.message } }, 'reconciler error'));
  let running: Promise<void> | undefined;
  return {
    queue,
    async start(intervalMs: number): Promise<void> {
      // Every worker upserts the same scheduler: one run per interval, whoever takes it.
      await queue.upsertJobScheduler('reconcile', { every: intervalMs }, { name: 'reconcile' });
      running = worker.run();
    },
    async close(): Promise<void> {
      await worker.close();
      await running;
      await queue.close();
    },
  };
}
