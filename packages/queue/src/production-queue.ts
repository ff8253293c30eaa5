import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Job, type JobState, Queue } from 'bullmq';
import {
  type Owner,
  PRODUCTION_JOB_OPTIONS,
  type ProductionJobData,
  type ProductionJobResult,
  productionDedupId,
  QUEUES,
} from './contract.ts';
import type { RedisConnection } from './redis.ts';

export type ProductionQueue = Queue<ProductionJobData, ProductionJobResult>;

export function createProductionQueue(connection: RedisConnection, opts: { prefix?: string } = {}): ProductionQueue {
  const queue: ProductionQueue = new Queue(QUEUES.productions, {
    connection,
    prefix: opts.prefix,
    defaultJobOptions: PRODUCTION_JOB_OPTIONS,
  });
  // Callers see failures on add(); without a listener an 'error' event would crash the process.
  queue.on('error', () => {});
  return queue;
}

type ProductionJob = Job<ProductionJobData, ProductionJobResult>;

/** States in which no worker has read the job's data yet. */
const NOT_STARTED: ReadonlySet<JobState | 'unknown'> = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

type NewProductionJob = { uuid: string; owner: Owner; reportedStatus: number | null; customData?: unknown; force?: boolean };

/**
 * Queues a production for ingest. Deduplicated per owner and uuid: a repeat
 * while the job waits (or waits for a retry) adds no job but gives that one
 * the newest custom_data, and a replay's force; one while it runs is kept to
 * run after it (BullMQ's keepLastIfActive, which keeps the newest data too).
 */
export async function addProductionJob(queue: ProductionQueue, job: NewProductionJob): Promise<ProductionJob> {
  const data: ProductionJobData = { ...job, receivedAt: new Date().toISOString() };
  // A repeat with nothing to add needs no telling apart: a job runs either way (3-5 µs of Node and 3 of Redis less per webhook).
  if (job.customData === undefined && !job.force) return queue.add('production', data, { deduplication: deduplication(data) });
  const added = await add(queue, data);
  return added.deduplicated ? keepNewest(queue, added.job.id as string, data) : added.job;
}

/** The adds of one turn of the event loop. */
interface Turn {
  adds: Promise<ProductionJob>[];
  deadline: number;
  /** Settles once every add of the turn is in and `afterBatch` is done. */
  done: Promise<void>;
}

/**
 * addProductionJob for many callers at once, each add resolving only after a
 * step that is costly per call: `afterBatch` (the ingress's WAIT for replicas,
 * or WAITAOF) runs once for the adds of one turn of the event loop, given the
 * earliest caller's deadline. Each add leaves for Redis at once: holding a
 * turn's adds back for one socket write saved about 4 µs of Node per add but
 * cost 15-25% of the webhooks per second, as Node then waited for Redis and
 * Redis for Node (scripts/bench: ingress, adds).
 */
export class ProductionJobBatcher {
  readonly #queue: ProductionQueue;
  readonly #afterBatch: (deadline: number) => Promise<void>;
  #turn: Turn | undefined;

  constructor(queue: ProductionQueue, opts: { afterBatch: (deadline: number) => Promise<void> }) {
    this.#queue = queue;
    this.#afterBatch = opts.afterBatch;
  }

  add(job: NewProductionJob, deadline = Number.POSITIVE_INFINITY): Promise<ProductionJob> {
    const turn = this.#turn ?? this.#startTurn();
    turn.deadline = Math.min(turn.deadline, deadline);
    const added = addProductionJob(this.#queue, job);
    turn.adds.push(added);
    // Ours fails alone; the turn's wait fails all of them.
    return Promise.all([added, turn.done]).then(([j]) => j);
  }

  #startTurn(): Turn {
    const adds: Promise<ProductionJob>[] = [];
    const turn: Turn = {
      adds,
      deadline: Number.POSITIVE_INFINITY,
      // After the poll phase that brought the turn's callers, and the microtasks in which their adds were written.
      done: new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        this.#turn = undefined;
        await Promise.allSettled(adds);
        await this.#afterBatch(turn.deadline);
      }),
    };
    // Nobody may be left to see a failed wait (every add failed on its own first).
    turn.done.catch(() => {});
    this.#turn = turn;
    return turn;
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
  if (repeat.force) Object.assign(next, { force: true, receivedAt: repeat.receivedAt });
  return next;
}
