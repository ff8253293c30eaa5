import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import {
  addProductionJob,
  bridgeKeyPrefix,
  createProductionQueue,
  type ProductionJobResult,
  type ProductionQueue,
} from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator } from '@auphonic-bridge/simulator';
import { LogCapture, redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.ts';
import { WorkerService } from '../src/service.ts';

export const API_KEY = 'sim-api-key-0123456789';

export interface WorkerFixture {
  /** A QUEUE_PREFIX of its own on the run's Redis. */
  redis: TestRedisSpace;
  sim: AuphonicSimulator;
  storageDir: string;
  logs: LogCapture;
  queue: ProductionQueue;
  env: Record<string, string>;
  startWorker(env?: Record<string, string>): Promise<WorkerService>;
  enqueue(uuid: string, reportedStatus?: number): Promise<Job>;
  /** Resolves with the job's final state and result or failure reason. */
  /** The job's end; a job not ended within `timeoutMs` (30 s) fails the test. */
  settled(job: Job, timeoutMs?: number): Promise<{ state: string; result?: ProductionJobResult; reason?: string }>;
  /** Each attempt fetches the details first: counting those counts attempts. */
  detailCalls(uuid: string): number;
  /** Files under STORAGE_DIR, relative, temporary area included. */
  listFiles(): Promise<string[]>;
  close(): Promise<void>;
}

/** Real redis-server, real simulator over loopback HTTP, real files in a temp dir. */
export async function startFixture(): Promise<WorkerFixture> {
  const redis = await redisSpace();
  const sim = await AuphonicSimulator.start({ apiKey: API_KEY });
  const storageDir = await mkdtemp(join(tmpdir(), 'bridge-storage-'));
  const logs = new LogCapture();
  const connection = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
  const queue = createProductionQueue(connection, { prefix: redis.prefix });
  const workers: WorkerService[] = [];
  const env = {
    REDIS_URL: redis.url.toString(),
    QUEUE_PREFIX: redis.prefix,
    AUPHONIC_BASE_URL: sim.baseUrl.origin,
    AUPHONIC_API_KEY: API_KEY,
    STORAGE_DIR: storageDir,
    RETRY_BASE_DELAY_MS: '20',
    RETRY_MAX_DELAY_MS: '200',
    LOG_LEVEL: 'debug',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    // Off unless a test is about it: it would find the other tests' productions.
    RECONCILE_INTERVAL_MS: '0',
  };
  return {
    redis,
    sim,
    storageDir,
    logs,
    queue,
    env,
    async startWorker(overrides = {}) {
      const config = readConfig({ ...env, ...overrides });
      const worker = await WorkerService.create(config, createLogger({ service: 'worker', level: 'debug', destination: logs }));
      await worker.start();
      workers.push(worker);
      return worker;
    },
    enqueue: (uuid, reportedStatus = 3) => addProductionJob(queue, { uuid, owner: { kind: 'account' }, reportedStatus }),
    async settled(job, timeoutMs = 30_000) {
      const id = job.id as string;
      return waitFor(
        async () => {
          const state = await queue.getJobState(id);
          if (state !== 'completed' && state !== 'failed') return null;
          // Read after the state is final; BullMQ may show the state a moment before the result or reason.
          const current = await queue.getJob(id);
          if (!current?.finishedOn || (state === 'failed' && !current.failedReason)) return null;
          return { state, result: current.returnvalue, reason: current.failedReason };
        },
        `job ${id} to settle`,
        timeoutMs,
      );
    },
    detailCalls: (uuid) => sim.requests.filter((r) => r.origin === 'api' && r.path === `/api/production/${uuid}.json`).length,
    async listFiles() {
      const entries = await readdir(storageDir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(storageDir.length + 1))
        .sort();
    },
    async close() {
      for (const w of workers) await w.destroy();
      await queue.close();
      connection.disconnect();
      await sim.close();
      await redis.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes that differ per seed, so a wrong offset shows. */
export function bytes(size: number, seed = 1): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

/** A user connected through the External Service flow, as the OAuth flow leaves one (the service uuid not known yet). */
export async function connectUser(
  f: WorkerFixture,
  key: Buffer,
  username: string,
): Promise<{ redis: Redis; store: ConnectionStore; connectionId: string; userId: string }> {
  const redis = new Redis(f.redis.url.toString());
  const store = new ConnectionStore(redis, new Sealer(key), { keyPrefix: bridgeKeyPrefix(f.redis) });
  const token = `${username}-token-0123456789`;
  const user = f.sim.accounts.addUser({ username, apiKey: token });
  await store.saveAccessToken(user.userId, token);
  const c = await store.create({ displayName: 'Host', customData: null, returnUrl: null, auphonicUser: { userId: user.userId, username } });
  await store.update(c.id, { status: 'connected' });
  return { redis, store, connectionId: c.id, userId: user.userId };
}
