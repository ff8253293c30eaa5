// What the benchmark sections share: a simulator, big files, worker processes and their memory.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { addProductionJob, createProductionQueue, type ProductionQueue } from '@auphonic-bridge/queue';
import { AuphonicSimulator } from '@auphonic-bridge/simulator';
import { type SpawnedService, spawnService, type TestRedis, type TestS3, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';

export const out = (line: string) => process.stdout.write(`${line}\n`);
export const API_KEY = 'bench-api-key-0123456789';

export interface Bench {
  redis: TestRedis;
  work: string;
  /** NODE_COMPILE_CACHE per service, filled as its image's build fills it: services start as new containers do. */
  compileCache: Record<'ingress' | 'worker', string>;
}

/** A file of `mb` MiB of varying bytes, written with bounded memory. */
export async function bigFile(path: string, mb: number): Promise<void> {
  const ws = createWriteStream(path);
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    block.fill(i % 251);
    block.writeUInt32LE(i, 0);
    if (!ws.write(Buffer.from(block))) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'finish');
}

export async function simulator(): Promise<AuphonicSimulator> {
  return AuphonicSimulator.start({ apiKey: API_KEY, linkTtlMs: 3_600_000 });
}

/** A worker process as `pnpm start:worker` runs it. */
export async function startWorker(bench: Bench, sim: AuphonicSimulator, env: Record<string, string>): Promise<SpawnedService> {
  const worker = spawnService('worker', {
    NODE_COMPILE_CACHE: bench.compileCache.worker,
    REDIS_URL: bench.redis.url.toString(),
    AUPHONIC_BASE_URL: sim.baseUrl.origin,
    AUPHONIC_API_KEY: API_KEY,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_MS: '0',
    ...env,
  });
  await waitFor(() => worker.output().includes('worker ready'), 'the worker to be ready', 60_000);
  return worker;
}

/** CPU seconds a process has used (user + system). */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds this process has used. */
export function selfCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Resident memory now (VmRSS) and at its peak (VmHWM), MB. */
export async function rss(pid: number): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export function queueOn(redis: TestRedis): { queue: ProductionQueue; connection: Redis; close(): Promise<void> } {
  const connection = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
  const queue = createProductionQueue(connection);
  return {
    queue,
    connection,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Queues one production and waits for its job to finish; seconds it took. Each run stores to a storage of its own (nothing "unchanged"). */
export async function ingest(queue: ProductionQueue, uuid: string, timeoutMs = 900_000): Promise<number> {
  const started = performance.now();
  const job = await addProductionJob(queue, { uuid, owner: { kind: 'account' }, reportedStatus: 3 });
  const done = await waitFor(
    async () => {
      const j = await queue.getJob(job.id as string);
      return j?.finishedOn ? j : null;
    },
    `production ${uuid}`,
    timeoutMs,
  );
  if (done.failedReason) throw new Error(done.failedReason);
  return (performance.now() - started) / 1000;
}

export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A worker's settings for S3 storage on the bench's s3rver, under `prefix`. */
export function s3Storage(s3: TestS3, prefix: string): Record<string, string> {
  return {
    STORAGE_URL: `s3://${s3.bucket}/${prefix}`,
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
}
