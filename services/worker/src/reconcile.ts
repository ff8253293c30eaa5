import { outcomeOf, type Production, type ProductionSummary } from '@auphonic-bridge/auphonic';
import type { Connection, ConnectionStore } from '@auphonic-bridge/connections';
import { addProductionJob, type Owner, type ProductionQueue, productionDedupId, type RedisConnection } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { StorageDriver } from '@auphonic-bridge/storage';
import type { Credentials } from './credentials.ts';
import { asRecord, fingerprint } from './record.ts';
import { productionPrefix, recordKey } from './storage-layout.ts';

export interface ReconcileDeps {
  credentials: (owner: Owner) => Promise<Credentials>;
  /** Whether production webhooks of the API-key account are served here. */
  hasAccount: boolean;
  /** Our production webhook URLs: the account's production is ours only when its webhook is one of them. */
  accountWebhookUrls: readonly string[];
  connections: ConnectionStore | null;
  storage: StorageDriver;
  queue: ProductionQueue;
  /** Keeps each owner's watermark: where the last complete scan began. */
  redis: RedisConnection;
  /** The bridge's own keys' prefix (QUEUE_PREFIX's). */
  keyPrefix?: string;
  pageSize: number;
  /** How far back, by creation, each scan walks the list (and what the first scan of an owner looks at). */
  lookbackMs: number;
  onRecovered?: (owner: Owner) => void;
  /** An owner this round could not walk (its watermark stays). */
  onSkipped?: (owner: Owner) => void;
}

export interface ReconcileReport {
  owners: number;
  pages: number;
  checked: number;
  queued: number;
  /** Owners that could not be scanned this time (their watermark stays). */
  skipped: number;
}

/** Productions changed this close before a scan began are looked at again next time (clocks differ; scans take time). */
export const WATERMARK_OVERLAP_MS = 3600_000;
/** A bound on one owner's scan, should the list carry no times at all. */
const MAX_PAGES = 200;

interface Target {
  owner: Owner;
  /** For a connection: the service its productions select. */
  serviceUuid: string | null;
}

const ownerKey = (owner: Owner) => (owner.kind === 'account' ? 'account' : `connection:${owner.id}`);
const watermarkKey = (keyPrefix: string, owner: Owner) => `${keyPrefix}reconcile:since:${ownerKey(owner)}`;
/** A production looked at without change_time and found settled (not ours, or recorded for good): not again within the lookback. */
const settledKey = (keyPrefix: string, owner: Owner, uuid: string) => `${keyPrefix}reconcile:settled:${ownerKey(owner)}:${uuid}`;

/**
 * The safety net for webhooks that never came (Auphonic's retries are
 * undocumented). For each owner, the list is walked page after page until
 * a page holds no production created within RECONCILE_LOOKBACK; of those,
 * every one changed since the last complete scan (first time: the lookback)
 * is queued when it is finished, ours, and not handled in its current
 * version. Ours means: for the account, its webhook
 * is exactly one of our URLs; for a connection, it selected the connection's
 * own service (learnt from /api/services.json when connect did not say).
 */
export async function reconcile(deps: ReconcileDeps, log: Logger, opts: { onlyConnection?: string } = {}): Promise<ReconcileReport> {
  const targets = await targetsOf(deps, log, opts.onlyConnection);
  const report: ReconcileReport = { owners: targets.length, pages: 0, checked: 0, queued: 0, skipped: 0 };
  for (const target of targets) {
    const tlog = log.child({ owner: target.owner });
    try {
      await scanOwner(deps, target, report, tlog);
    } catch (err) {
      report.skipped += 1;
      deps.onSkipped?.(target.owner);
      tlog.warn({ code: (err as { code?: unknown }).code }, `reconcile skipped an owner: ${(err as Error).message}`);
    }
  }
  return report;
}

async function targetsOf(deps: ReconcileDeps, log: Logger, only: string | undefined): Promise<Target[]> {
  const targets: Target[] = [];
  if (!only && deps.hasAccount && deps.accountWebhookUrls.length > 0) targets.push({ owner: { kind: 'account' }, serviceUuid: null });
  for (const c of (await deps.connections?.list()) ?? []) {
    if (c.status !== 'connected' || (only && c.id !== only)) continue;
    const serviceUuid = c.serviceUuid ?? (await learnServiceUuid(deps, c, log));
    if (serviceUuid) targets.push({ owner: { kind: 'connection', id: c.id }, serviceUuid });
  }
  return targets;
}

/** connect.json's answer need not name the service: the user's service list does, by display_name and our webhook URL. */
async function learnServiceUuid(deps: ReconcileDeps, c: Connection, log: Logger): Promise<string | null> {
  try {
    const { client } = await deps.credentials({ kind: 'connection', id: c.id });
    const service = (await client.listServices()).find(
      (s) => s.displayName === c.displayName && (s.webhookUrl === null || s.webhookUrl.endsWith(`/webhooks/service/${c.id}`)),
    );
    if (!service) return null;
    await deps.connections?.update(c.id, { serviceUuid: service.uuid });
    return service.uuid;
  } catch (err) {
    log.warn(
      { connection: c.id, code: (err as { code?: unknown }).code },
      `could not learn the service of a connection: ${(err as Error).message}`,
    );
    return null;
  }
}

async function scanOwner(deps: ReconcileDeps, target: Target, report: ReconcileReport, log: Logger): Promise<void> {
  const began = Date.now();
  const stored = Number(await deps.redis.get(watermarkKey(deps.keyPrefix ?? 'bridge:', target.owner)));
  const since = Number.isFinite(stored) && stored > 0 ? stored : began - deps.lookbackMs;
  const { client } = await deps.credentials(target.owner);
  // The list comes newest created first, not by change: a production created days ago can finish (or be
  // re-run) after a page of newer ones that did not change. So every round walks all created within
  // RECONCILE_LOOKBACK, and looks at those changed since the watermark.
  const createdSince = began - deps.lookbackMs;
  // On by what each page held, to a page with none recent (an empty one at the end): an API that serves fewer than
  // RECONCILE_LIMIT a page skips none.
  for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
    const list = await client.listProductions({ limit: deps.pageSize, offset });
    offset += list.length;
    report.pages += 1;
    let recent = 0;
    for (const summary of list) {
      const createdAt = timeOf(summary.creation_time);
      if (createdAt === null || createdAt >= createdSince) recent += 1;
      const changedAt = timeOf(summary.change_time);
      if (changedAt !== null && changedAt < since) continue;
      // Without change_time (minimal_data may leave it out), one created before the watermark can still have
      // finished since: looked at unless recorded for good (its record's change time is then unknown here),
      // within RECONCILE_LOOKBACK.
      if (changedAt === null && createdAt !== null && createdAt < createdSince) continue;
      const unlessFinal = changedAt === null && createdAt !== null && createdAt < since;
      if (await consider(deps, target, summary, (uuid) => client.getProduction(uuid), report, unlessFinal)) {
        log.info({ uuid: summary.uuid }, 'finished production not stored yet; queued by the reconciler');
      }
    }
    if (recent === 0) break;
  }
  // Only a complete scan moves the watermark: an owner that failed half-way is looked at from the same point again.
  await deps.redis.set(watermarkKey(deps.keyPrefix ?? 'bridge:', target.owner), String(began - WATERMARK_OVERLAP_MS));
}

/** Queues the production if it is finished, ours, and not handled in its current version. */
async function consider(
  deps: ReconcileDeps,
  target: Target,
  summary: ProductionSummary,
  details: (uuid: string) => Promise<Production>,
  report: ReconcileReport,
  unlessFinal = false,
): Promise<boolean> {
  const recordOf = async () => asRecord(await deps.storage.readJson(recordKey(productionPrefix(target.owner, summary.uuid))));
  // Without change_time nothing tells a settled production from one that finished since: what was found settled
  // (recorded for good, or not ours) is remembered for the lookback, sparing its record and details every round.
  const settled = unlessFinal ? settledKey(deps.keyPrefix ?? 'bridge:', target.owner, summary.uuid) : null;
  if (settled && (await deps.redis.exists(settled))) return false;
  const settle = async () => {
    if (settled) await deps.redis.set(settled, '1', 'PX', deps.lookbackMs);
    return false;
  };
  let record = unlessFinal ? await recordOf() : undefined;
  if (record?.final) return settle();
  // minimal_data may lack a field: then the details decide.
  let full: Production | undefined;
  const field = async <K extends keyof ProductionSummary>(name: K): Promise<unknown> => {
    if (name in summary) return summary[name];
    full ??= await details(summary.uuid);
    return full[name as string];
  };
  const status = await field('status');
  if (typeof status !== 'number' || outcomeOf(status) === 'running') return false;
  report.checked += 1;
  if (record === undefined) record = await recordOf();
  if (record?.final && record.changeTime !== null && record.changeTime === summary.change_time) return false;
  if (!isOurs(deps, target, target.owner.kind === 'account' ? await field('webhook') : await field('service'))) return settle();
  if (record?.final && record.fingerprint !== null) {
    full ??= await details(summary.uuid);
    if (record.fingerprint === fingerprint(full)) return false;
  }
  // Already on its way (the webhook did come): nothing to recover.
  if (await deps.queue.getDeduplicationJobId(productionDedupId(target.owner, summary.uuid))) return false;
  await addProductionJob(deps.queue, { uuid: summary.uuid, owner: target.owner, reportedStatus: status });
  report.queued += 1;
  deps.onRecovered?.(target.owner);
  return true;
}

/** Exactly one of our webhook URLs (another bridge's URL, or one with another secret, is not), or our connection's service. */
function isOurs(deps: ReconcileDeps, target: Target, value: unknown): boolean {
  if (target.owner.kind === 'account') {
    return typeof value === 'string' && deps.accountWebhookUrls.some((url) => normalise(url) === normalise(value));
  }
  const uuid = value && typeof value === 'object' ? (value as { uuid?: unknown }).uuid : value;
  return typeof uuid === 'string' && uuid === target.serviceUuid;
}

const normalise = (url: string) => url.trim().replace(/\/+$/, '');

/** Auphonic's documented example has times without a zone ("2012-05-15T13:10:47.105"): UTC, not this machine's zone. */
const NO_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

export function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(NO_ZONE.test(value) ? `${value}Z` : value);
  return Number.isNaN(t) ? null : t;
}
