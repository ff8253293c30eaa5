import { once } from 'node:events';
import {
  createProductionQueue,
  duplicateForBlocking,
  type Owner,
  ProductionJobBatcher,
  type ProductionJobResult,
  type ProductionQueue,
  QUEUES,
  type RedisConnection,
} from '@auphonic-bridge/queue';
import { Job, QueueEvents } from 'bullmq';
import { Deadlines } from './deadline.ts';
import { queueUnavailable } from './errors.ts';

export interface Enqueuer {
  /** Resolves with the job's id once it is in Redis; 503 error when Redis cannot take it. */
  enqueueProduction(job: {
    uuid: string;
    owner: Owner;
    reportedStatus: number | null;
    customData?: unknown;
    force?: boolean;
  }): Promise<string>;
  /** The job's result if it completes within timeoutMs, else undefined. */
  waitForResult(jobId: string, timeoutMs: number): Promise<ProductionJobResult | undefined>;
  close(): Promise<void>;
}

export interface EnqueueOptions {
  /** The whole of one enqueue, waits included. */
  timeoutMs: number;
  /** WAITAOF 1 0 after the add: Redis has fsynced the job. */
  waitForAof?: boolean;
  /** WAIT n after the add: n replicas have the job, so a failover to one of them keeps it. */
  waitForReplicas?: number;
}

/** Adds production jobs, concurrent ones sharing socket writes (waiting for replicas or the fsync once per turn, when asked to); fails fast (503 upstream) when Redis cannot take them. */
export function createEnqueuer(queue: ProductionQueue, connection: RedisConnection, opts: EnqueueOptions): Enqueuer {
  let events: QueueEvents | undefined;
  let eventsConnection: RedisConnection | undefined;
  const replicas = opts.waitForReplicas ?? 0;
  const waiting = opts.waitForAof || replicas > 0 ? waitingQueue(queue, connection) : undefined;
  // WAIT and WAITAOF once per batch: they count every write the connection made before them.
  const afterBatch = async (waiting: WaitingQueue, deadline: number) => {
    // Their timeout 0 would mean forever.
    const left = () => Math.max(1, deadline - Date.now());
    if (replicas > 0) {
      const reached = (await waiting.redis.call('WAIT', replicas, left())) as number;
      if (reached < replicas) throw new Error(`the job reached ${reached} of ${replicas} replicas in time`);
    }
    if (opts.waitForAof) {
      // WAITAOF numlocal numreplicas timeout: answered once this connection's writes are fsynced locally.
      const [local] = (await waiting.redis.call('WAITAOF', 1, 0, left())) as [number, number];
      if (local < 1) throw new Error('the job was not fsynced in time');
    }
  };
  // Without a wait each add resolves as soon as it is in.
  const batcher = waiting
    ? new ProductionJobBatcher(waiting.queue, waiting.redis, { afterBatch: (deadline) => afterBatch(waiting, deadline) })
    : new ProductionJobBatcher(queue, connection);
  const durable = async (waiting: WaitingQueue, job: Parameters<Enqueuer['enqueueProduction']>[0], deadline: number) => {
    await waiting.connected();
    const generation = waiting.generation();
    const added = await batcher.add(job, deadline);
    // Reconnected between the add and the wait (a failover): the wait counted the new connection's writes, not the job.
    if (waiting.generation() !== generation) throw new Error('the connection to Redis changed while the job was added');
    return added;
  };
  const deadlines = new Deadlines();
  const late = () => new Error('enqueue timed out');
  const unavailable = (err: unknown): never => {
    throw Object.assign(queueUnavailable(), { cause: err });
  };
  return {
    // Not async, and no wrapper for the common case: each promise layer is paid by every webhook.
    enqueueProduction(job) {
      const deadline = Date.now() + opts.timeoutMs;
      const work = waiting ? durable(waiting, job, deadline) : batcher.add(job, deadline);
      return deadlines.within(work, opts.timeoutMs, late).catch(unavailable);
    },
    async waitForResult(jobId, timeoutMs) {
      try {
        // A blocking connection of its own, made only when someone waits.
        if (!events) {
          eventsConnection = duplicateForBlocking(connection);
          events = new QueueEvents(QUEUES.productions, { connection: eventsConnection, prefix: queue.opts.prefix });
          events.on('error', () => {});
        }
        const job = await Job.fromId<unknown, ProductionJobResult>(queue, jobId);
        return job ? await job.waitUntilFinished(events, timeoutMs) : undefined;
      } catch {
        // Not finished in time, or failed: the webhook is answered without the file link.
        return undefined;
      }
    },
    async close() {
      await events?.close();
      await waiting?.queue.close().catch(() => {});
      // BullMQ leaves a connection it was given open.
      eventsConnection?.disconnect();
      waiting?.redis.disconnect();
    },
  };
}

/**
 * WAIT and WAITAOF count the writes of the connection they are sent on, and block it while they
 * wait: webhooks that wait get a connection of their own, so that health checks and the admin
 * API never queue behind them. Each close of it (a failover) starts a new generation.
 */
type WaitingQueue = ReturnType<typeof waitingQueue>;

function waitingQueue(queue: ProductionQueue, connection: RedisConnection) {
  const redis = connection.duplicate();
  // The main connection says what goes wrong with Redis.
  redis.on('error', () => {});
  let generation = 0;
  redis.on('close', () => {
    generation += 1;
  });
  let ready: Promise<unknown> | undefined;
  return {
    redis,
    queue: createProductionQueue(redis, { prefix: queue.opts.prefix }),
    generation: () => generation,
    /** While it is connecting (at start, after a failover), the webhook waits for it; else it fails fast. One listener for all. */
    async connected() {
      if (redis.status !== 'connecting' && redis.status !== 'connect') return;
      ready ??= once(redis, 'ready').finally(() => {
        ready = undefined;
      });
      await ready;
    },
  };
}
