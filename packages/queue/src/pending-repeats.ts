import { isDeepStrictEqual } from 'node:util';
import type { Job } from 'bullmq';
import { type ProductionJobData, productionDedupId } from './contract.ts';
import type { RedisConnection } from './redis.ts';

/**
 * What a repeat adds to a production's job (a service webhook's newer
 * custom_data, a replay's force) also waits in a hash of its own until a run
 * takes it. BullMQ keeps one next run's data for a job that is running
 * (keepLastIfActive) and any later repeat overwrites it, a plain webhook too:
 * a pending force or custom_data was lost that way. Fields are written one by
 * one (HSET), so that concurrent repeats never drop each other's, and a run
 * takes only what it read (a repeat that lands meanwhile waits for the next).
 */
const FIELDS = { customData: 'customData', forceAt: 'forceAt' } as const;

/** A repeat's fields outlive the job they were for only this long, should no run take them (its add failed, say). */
const PENDING_TTL_MS = 7 * 24 * 3600 * 1000;

/** Beside BullMQ's own keys for the queue (so in its hash slot on a cluster). */
export const pendingKey = (queueQualifiedName: string, data: Pick<ProductionJobData, 'owner' | 'uuid'>) =>
  `${queueQualifiedName}:pending:${productionDedupId(data.owner, data.uuid)}`;

/** Written before the repeat's add: any run that starts after the add sees it. */
export async function notePendingRepeat(client: RedisConnection, key: string, data: ProductionJobData): Promise<void> {
  const fields: string[] = [];
  if (data.customData !== undefined) fields.push(FIELDS.customData, JSON.stringify(data.customData));
  if (data.force) fields.push(FIELDS.forceAt, data.receivedAt);
  if (fields.length === 0) return;
  await Promise.all([client.hset(key, ...fields), client.pexpire(key, PENDING_TTL_MS)]);
}

// Deletes each field only if it still holds what the run read: a repeat written since is kept for the next run.
const TAKE = `for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0`;

/**
 * At the start of a run: the job's data with what repeats left pending, kept
 * in the job (so that its retries have it too) before it is taken from the
 * hash. Returns the data the run works on.
 */
export async function takePendingRepeats(client: RedisConnection, job: Job<ProductionJobData>): Promise<ProductionJobData> {
  const key = pendingKey(job.queueQualifiedName, job.data);
  const pending = await client.hgetall(key);
  const entries = Object.entries(pending);
  if (entries.length === 0) return job.data;
  const data = withPending(job.data, pending);
  if (!isDeepStrictEqual(data, job.data)) await job.updateData(data);
  await client.eval(TAKE, 1, key, ...entries.flat());
  return data;
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
