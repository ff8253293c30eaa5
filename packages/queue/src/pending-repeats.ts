import type { Job } from 'bullmq';
import { type ProductionJobData, productionDedupId } from './contract.ts';
import type { RedisConnection } from './redis.ts';

/**
 * What a repeat adds to a production's job (a service webhook's newer
 * custom_data, a replay's force) also waits in a hash of its own until a run
 * is done with it. BullMQ keeps one next run's data for a job that is running
 * (keepLastIfActive) and any later repeat overwrites it, a plain webhook too:
 * a pending force or custom_data was lost that way. Fields are written one by
 * one (HSET), so that concurrent repeats never drop each other's. Every
 * attempt reads them afresh (a retry has them without the job's data having
 * to, which a concurrent repeat's update could overwrite), and a job that
 * completes deletes only what its last attempt read: a repeat that landed
 * meanwhile waits for the next run. A job that gives up leaves them for the
 * production's next run (a retry by hand, a later webhook).
 */
const FIELDS = { customData: 'customData', forceAt: 'forceAt' } as const;

/** A repeat's fields outlive their last read by a run only this long, should no run complete with them (its add failed, say). */
const PENDING_TTL_MS = 7 * 24 * 3600 * 1000;

/** Beside BullMQ's own keys for the queue (so in its hash slot on a cluster). */
export const pendingKey = (queueQualifiedName: string, data: Pick<ProductionJobData, 'owner' | 'uuid'>) =>
  `${queueQualifiedName}:pending:${productionDedupId(data.owner, data.uuid)}`;

// A force's time only ever moves on (a job retried by hand brings an older one); ISO times compare as strings.
const NOTE = `if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'customData', ARGV[3]) end
if ARGV[4] ~= '' then
  local current = redis.call('HGET', KEYS[1], 'forceAt')
  if not current or current < ARGV[4] then redis.call('HSET', KEYS[1], 'forceAt', ARGV[4]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`;

/** Written before the repeat's add: any attempt that starts after the add sees it. */
export async function notePendingRepeat(client: RedisConnection, key: string, data: ProductionJobData): Promise<void> {
  const custom = data.customData !== undefined;
  if (!custom && !data.force) return;
  const forceAt = data.force ? data.receivedAt : '';
  await client.eval(NOTE, 1, key, PENDING_TTL_MS, custom ? '1' : '0', custom ? JSON.stringify(data.customData) : '', forceAt);
}

// Deletes each field only if it still holds what the attempt read.
const SETTLE = `for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0`;

export interface PendingRepeats {
  /** The job's data with what repeats left pending. */
  data: ProductionJobData;
  /** Once the job has completed: what this attempt read is done with. */
  settle(): Promise<void>;
}

const NONE = async () => {};

/** At the start of each attempt. */
export async function readPendingRepeats(client: RedisConnection, job: Job<ProductionJobData>): Promise<PendingRepeats> {
  // Job data too broken to name its production: the run says so itself (ERR_BAD_JOB).
  if (typeof job.data?.uuid !== 'string' || typeof job.data.owner?.kind !== 'string') return { data: job.data, settle: NONE };
  const key = pendingKey(job.queueQualifiedName, job.data);
  const pending = await client.hgetall(key);
  const entries = Object.entries(pending);
  if (entries.length === 0) return { data: job.data, settle: NONE };
  // Kept as long as runs still want them (a job's retries may outlast the week).
  await client.pexpire(key, PENDING_TTL_MS);
  return {
    data: withPending(job.data, pending),
    settle: async () => {
      await client.eval(SETTLE, 1, key, ...entries.flat());
    },
  };
}

/** What waits for a production's next run, as the operator's tools show it. */
export async function peekPendingRepeats(client: RedisConnection, key: string): Promise<{ forceAt: string | null; customData?: unknown }> {
  const pending = await client.hgetall(key);
  const custom = pending[FIELDS.customData];
  return { forceAt: pending[FIELDS.forceAt] ?? null, ...(custom !== undefined ? { customData: JSON.parse(custom) } : {}) };
}

/** The newest custom_data wins; a force keeps the latest replay's time (what was stored before it is fetched again). */
function withPending(current: ProductionJobData, pending: Record<string, string>): ProductionJobData {
  let next = current;
  const custom = pending[FIELDS.customData];
  if (custom !== undefined) next = { ...next, customData: JSON.parse(custom) };
  const forceAt = pending[FIELDS.forceAt];
  if (forceAt !== undefined && !(current.force && current.receivedAt >= forceAt)) next = { ...next, force: true, receivedAt: forceAt };
  return next;
}
