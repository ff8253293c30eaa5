import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Job, type JobJson, type JobState, type JobsOptions, Queue } from 'bullmq';
import {
  type Owner,
  PRODUCTION_JOB_OPTIONS,
  type ProductionJobData,
  type ProductionJobResult,
  productionDedupId,
  QUEUES,
} from './contract.ts';
import { notePendingRepeat, peekPendingRepeats, pendingKey } from './pending-repeats.ts';
import { isCluster, type RedisConnection } from './redis.ts';

export type ProductionQueue = Queue<ProductionJobData, ProductionJobResult>;

export function createProductionQueue(connection: RedisConnection, opts: { prefix?: string } = {}): ProductionQueue {
  const queue: ProductionQueue = new Queue(QUEUES.productions, {
    connection,
    prefix: opts.prefix,
    defaultJobOptions: PRODUCTION_JOB_OPTIONS,
  });
  // Callers see failures on add(); without a listener an 'error' event would crash the process.
  queue.on('error', () => {});
  connections.set(queue, connection);
  return queue;
}

/** The connection each queue was made with: a repeat's pending fields are written on it (BullMQ's own client is its wrapper). */
const connections = new WeakMap<ProductionQueue, RedisConnection>();
function connectionOf(queue: ProductionQueue): RedisConnection {
  const connection = connections.get(queue);
  if (!connection) throw new Error('a production queue must be made with createProductionQueue');
  return connection;
}

type ProductionJob = Job<ProductionJobData, ProductionJobResult>;

/** States in which no worker has read the job's data yet. */
const NOT_STARTED: ReadonlySet<JobState | 'unknown'> = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

type NewProductionJob = { uuid: string; owner: Owner; reportedStatus: number | null; customData?: unknown; force?: boolean };
/** `receivedAt`: kept from the job this one stands in for (a forced replay's time: what it stored since is kept). */
type RequeuedProductionJob = NewProductionJob & { receivedAt?: string };

/**
 * Queues a production for ingest. Deduplicated per owner and uuid: a repeat
 * while the job waits (or waits for a retry) adds no job but gives that one
 * the newest custom_data, and a replay's force; one while it runs is kept to
 * run after it (BullMQ's keepLastIfActive). What a repeat adds also waits
 * beside the job until a run takes it (pending-repeats.ts): a later plain
 * repeat overwrites BullMQ's next-run data.
 */
export async function addProductionJob(queue: ProductionQueue, job: RequeuedProductionJob): Promise<ProductionJob> {
  const data: ProductionJobData = { ...job, receivedAt: job.receivedAt ?? new Date().toISOString() };
  if (isPlain(data)) return queue.add('production', data, { deduplication: deduplication(data) });
  return addMerging(queue, data);
}

/**
 * A job that does not hold its production's deduplication is not the
 * production's job: BullMQ's retry of a finished one (the dashboard's, which
 * keeps the job's creation time, so its RETRY_FOR is spent, and does not
 * restore the deduplication key), or one added by hand. Every job BullMQ runs
 * in the normal course holds it. Such a job is queued anew, as a webhook
 * would be (deduplicated, with a budget of its own), and lets go of the
 * deduplication id it carries: BullMQ's finishing of a job acts on that id
 * (its `deid` field) whoever holds the key, and would start the holder's next
 * run at once, beside the holder. Returns the id of the job that runs
 * instead, or null for the production's own job.
 */
export async function requeueIfNotHeld(queue: ProductionQueue, job: ProductionJob): Promise<string | null> {
  if (!(await releaseIfNotHeld(queue, job))) return null;
  const { uuid, owner, reportedStatus, force, receivedAt } = job.data;
  // Without its custom_data: what the production has now (pending, or recorded) is newer than this job's.
  const again = await addProductionJob(queue, { uuid, owner, reportedStatus, force, ...(force ? { receivedAt } : {}) });
  return again.id as string;
}

/**
 * The first half of requeueIfNotHeld, also for a job BullMQ fails without
 * running it (stalled too often): true when the job was not the production's
 * own and has let go of the deduplication id it carried.
 */
export async function releaseIfNotHeld(queue: ProductionQueue, job: ProductionJob): Promise<boolean> {
  const { uuid, owner } = job.data ?? {};
  // Job data too broken to name its production: the run says so itself (ERR_BAD_JOB).
  if (typeof uuid !== 'string' || typeof owner?.kind !== 'string') return false;
  if ((await queue.getDeduplicationJobId(productionDedupId(owner, uuid))) === job.id) return false;
  await connectionOf(queue).hdel(`${job.queueQualifiedName}:${job.id}`, 'deid');
  return true;
}

/** What repeats left for the production's next run (a replay's force, a newer custom_data), not yet done with. */
export function pendingRepeatsOf(queue: ProductionQueue, owner: Owner, uuid: string) {
  return peekPendingRepeats(connectionOf(queue), pendingKey(queue.qualifiedName, { owner, uuid }));
}

/** addProductionJob for a caller that needs only the job's id (the ingress, under load): a plain webhook's job is added without a Job object. */
export async function addProductionJobId(queue: ProductionQueue, job: NewProductionJob): Promise<string> {
  if (isPlain(job)) {
    // Made field by field: a spread of the caller's object cost more than the rest of this function.
    const now = Date.now();
    const receivedAt = isoTime(now);
    const data =
      job.force === undefined
        ? { uuid: job.uuid, owner: job.owner, reportedStatus: job.reportedStatus, receivedAt }
        : { ...job, receivedAt };
    return addPlain(queue, data, now);
  }
  return (await addMerging(queue, { ...job, receivedAt: new Date().toISOString() })).id as string;
}

/** new Date(ms).toISOString(), made once per millisecond: the ingress adds many jobs in one. */
let lastIso = { ms: Number.NaN, text: '' };
function isoTime(ms: number): string {
  if (lastIso.ms !== ms) lastIso = { ms, text: new Date(ms).toISOString() };
  return lastIso.text;
}

// A repeat with nothing to add needs no telling apart: a job runs either way (3-5 µs of Node and 3 of Redis less per webhook).
const isPlain = (job: { customData?: unknown; force?: boolean }) => job.customData === undefined && !job.force;

async function addMerging(queue: ProductionQueue, data: ProductionJobData): Promise<ProductionJob> {
  // Sent ahead of the add on the same connection, not awaited first: Redis runs them in order, so a run
  // that sees the job sees what it adds (and one that did not would leave it to the next run).
  const noted = notePendingRepeat(connectionOf(queue), pendingKey(queue.qualifiedName, data), data);
  const [, added] = await Promise.all([noted, add(queue, data)]);
  return added.deduplicated ? keepNewest(queue, added.job.id as string, data) : added.job;
}

/**
 * A plain webhook's job, added as queue.add adds it but without its Job
 * object: the job's JSON goes straight to BullMQ's backend (IQueueBackend's
 * addJob, which Job.create calls), so BullMQ still packs it and runs its own
 * script. The Job instance, its asJSON (four JSON.stringify calls) and the
 * telemetry wrapper cost the ingress about 5 µs of Node a webhook, a tenth of
 * what it spends on one (scripts/bench: ingress). The options are those queue.add would
 * store (the queue's defaults, then the job's); the queue's tests compare the
 * two in Redis, so that a BullMQ upgrade that changes either shows there.
 */
function addPlain(queue: ProductionQueue, data: ProductionJobData, now: number): Promise<string> {
  const dedup = deduplication(data);
  const json: JobJson = {
    id: '',
    name: 'production',
    data: JSON.stringify(data),
    opts: { ...optionsOf(queue), deduplication: dedup },
    timestamp: now,
    deduplicationId: dedup.id,
    progress: 0,
    attemptsMade: 0,
    attemptsStarted: 0,
    stalledCounter: 0,
    failedReason: '',
    returnvalue: 'null',
  };
  return queue.backend.addJob(json, '');
}

/** What a job's options start from: Job's own default, then the queue's (its getter copies them on every call). */
const queueOptions = new WeakMap<ProductionQueue, JobsOptions>();
function optionsOf(queue: ProductionQueue): JobsOptions {
  let options = queueOptions.get(queue);
  if (!options) {
    options = { attempts: 0, ...queue.defaultJobOptions };
    queueOptions.set(queue, options);
  }
  return options;
}

/** The adds of one turn of the event loop. */
interface Turn {
  adds: Promise<string>[];
  deadline: number;
  /** The sockets corked for the turn. */
  corked: Array<{ cork(): void; uncork(): void }>;
  /** Settles once every add of the turn is in and `afterBatch` is done. */
  done?: Promise<void>;
}

/**
 * addProductionJobId for many callers at once (the ingress under load). The
 * socket (each master's, on a cluster) is corked for a turn of the event
 * loop and flushed after every `flushEvery` adds, and at the end of the turn:
 * the adds of concurrent webhooks share socket writes, Redis's reads and its
 * replies, without an ioredis pipeline (which copies every script BullMQ
 * defines, 64 of them: about 40 µs each). A few adds a write, not a whole
 * turn's: Redis answers a write only once it has run all of it, and a turn's
 * worth kept Node waiting for Redis and Redis for Node (scripts/bench:
 * ingress, adds).
 *
 * With `afterBatch` (the ingress's WAIT for replicas, or WAITAOF), that runs
 * once for the adds of a turn, given the earliest caller's deadline, before
 * any of them resolves.
 */
export class ProductionJobBatcher {
  readonly #queue: ProductionQueue;
  readonly #connection: RedisConnection;
  readonly #afterBatch: ((deadline: number) => Promise<void>) | undefined;
  readonly #flushEvery: number;
  #turn: Turn | undefined;

  /** `connection`: the one `queue` was made with (BullMQ uses it as it is). */
  constructor(
    queue: ProductionQueue,
    connection: RedisConnection,
    opts: { afterBatch?: (deadline: number) => Promise<void>; flushEvery?: number } = {},
  ) {
    this.#queue = queue;
    this.#connection = connection;
    this.#afterBatch = opts.afterBatch;
    this.#flushEvery = Math.max(1, opts.flushEvery ?? 4);
  }

  /** Resolves with the job's id once it is in Redis. */
  add(job: NewProductionJob, deadline = Number.POSITIVE_INFINITY): Promise<string> {
    const turn = this.#turn ?? this.#startTurn();
    turn.deadline = Math.min(turn.deadline, deadline);
    // The earlier adds' commands were written in the microtasks after their webhooks' handlers.
    if (turn.adds.length > 0 && turn.adds.length % this.#flushEvery === 0) {
      for (const stream of turn.corked) {
        stream.uncork();
        stream.cork();
      }
    }
    const added = addProductionJobId(this.#queue, job);
    turn.adds.push(added);
    if (!this.#afterBatch) return added;
    // Ours fails alone; the turn's wait fails all of them.
    return Promise.all([added, this.#settled(turn)]).then(([j]) => j);
  }

  #startTurn(): Turn {
    const turn: Turn = { adds: [], deadline: Number.POSITIVE_INFINITY, corked: this.#streams() };
    this.#turn = turn;
    for (const stream of turn.corked) stream.cork();
    // After the poll phase that brought the webhooks, and the microtasks in which BullMQ wrote their adds.
    setImmediate(() => {
      this.#turn = undefined;
      for (const stream of turn.corked) stream.uncork();
    });
    return turn;
  }

  #settled(turn: Turn): Promise<void> {
    turn.done ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await Promise.allSettled(turn.adds);
      await this.#afterBatch?.(turn.deadline);
    });
    // Nobody may be left to see a failed wait (every add failed on its own first).
    turn.done.catch(() => {});
    return turn.done;
  }

  #streams(): Array<{ cork(): void; uncork(): void }> {
    const c = this.#connection;
    const nodes = isCluster(c) ? c.nodes('master') : [c];
    return nodes.flatMap((n) => (n.stream ? [n.stream] : []));
  }
}

const deduplication = (data: ProductionJobData) => ({ id: productionDedupId(data.owner, data.uuid), keepLastIfActive: true });

/**
 * An add that must know whether it was deduplicated names its own job id (never all digits, no ':'):
 * an answer with another id is BullMQ saying the add went into that job. The others get BullMQ's.
 */
async function add(queue: ProductionQueue, data: ProductionJobData): Promise<{ job: ProductionJob; deduplicated: boolean }> {
  const jobId = randomUUID();
  const job = await queue.add('production', data, { jobId, deduplication: deduplication(data) });
  return { job, deduplicated: job.id !== jobId };
}

/**
 * The job a repeat was deduplicated into gets what the repeat adds. Redis
 * orders the update and a worker's take: if the job has not started once the
 * update is in, its run reads the new data; if it has (or is gone), one more
 * add stores the data for a run after it, or queues it anew. At worst a run
 * too many, which downloads nothing for an unchanged production.
 */
async function keepNewest(queue: ProductionQueue, id: string, data: ProductionJobData): Promise<ProductionJob> {
  const existing = await Job.fromId<ProductionJobData, ProductionJobResult>(queue, id);
  const next = existing ? merged(existing.data, data) : data;
  if (existing && isDeepStrictEqual(next, existing.data)) return existing;
  if (existing) {
    const updated = await existing.updateData(next).then(
      () => true,
      () => false,
    );
    if (updated && NOT_STARTED.has(await existing.getState())) return existing;
  }
  return (await add(queue, next)).job;
}

/** A repeat's custom_data replaces the job's; a replay's force comes with its time (files stored before it are fetched again). */
function merged(current: ProductionJobData, repeat: ProductionJobData): ProductionJobData {
  const next = { ...current };
  if (repeat.customData !== undefined) next.customData = repeat.customData;
  // Never back to an earlier replay's time (a job retried by hand brings its own, older one).
  if (repeat.force && !(current.force && current.receivedAt >= repeat.receivedAt))
    Object.assign(next, { force: true, receivedAt: repeat.receivedAt });
  return next;
}
