// pnpm bridge status (and replay) with the whole flow: a real redis-server, the Auphonic simulator,
// a worker process storing into a real directory, and the CLI reading the queue and the record.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createProductionQueue, type ProductionQueue } from '@auphonic-bridge/queue';
import { AuphonicSimulator, pseudoRandomBytes } from '@auphonic-bridge/simulator';
import {
  redisSpace,
  type SpawnedService,
  spawnService,
  startS3,
  type TestRedisSpace,
  type TestS3,
  waitFor,
} from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { bridge, errorOf, jsonOf, printed } from './helpers.ts';

const API_KEY = 'cli-status-api-key-0123';

interface Status {
  uuid: string;
  owner: { kind: string };
  job: {
    id: string;
    state: string;
    attempts: number;
    last_error: string | null;
    force: boolean;
    force_pending_since: string | null;
    outcome: string | null;
    next_attempt_at: string | null;
  } | null;
  record: {
    outcome: string;
    final: boolean;
    error: { code: string } | null;
    outputs: Array<{ filename: string | null; format: string; fate: string; size: number | null; code: string | null }>;
    files: number;
    bytes: number;
  } | null;
}

/** A worker process (`pnpm start:worker`) on the simulator's account, with the CLI's Redis and storage settings. */
const startWorker = (sim: AuphonicSimulator, env: Record<string, string>, extra: Record<string, string> = {}) =>
  spawnService('worker', {
    ...env,
    AUPHONIC_BASE_URL: sim.baseUrl.origin,
    AUPHONIC_API_KEY: API_KEY,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    RECONCILE_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  });

describe('pnpm bridge status, with a worker at work', () => {
  let space: TestRedisSpace;
  let sim: AuphonicSimulator;
  let storageDir: string;
  let worker: SpawnedService;
  let redis: Redis;
  let queue: ProductionQueue;
  let env: Record<string, string>;
  before(async () => {
    space = await redisSpace();
    sim = await AuphonicSimulator.start({ apiKey: API_KEY });
    storageDir = await mkdtemp(join(tmpdir(), 'bridge-cli-status-'));
    env = { REDIS_URL: space.url.toString(), QUEUE_PREFIX: space.prefix, STORAGE_DIR: storageDir };
    // A failed attempt waits long enough for the test to see it waiting.
    worker = startWorker(sim, env, { REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '60000' });
    redis = new Redis(space.url.toString(), { maxRetriesPerRequest: null });
    queue = createProductionQueue(redis, { prefix: space.prefix });
  });
  after(async () => {
    assert.equal(await worker.stop('SIGTERM'), 0, worker.output());
    await queue.close();
    redis.disconnect();
    await sim.close();
    await space.close();
    await rm(storageDir, { recursive: true, force: true });
  });

  const status = async (uuid: string) => {
    const run = await bridge(['status', uuid, '--json'], env);
    assert.equal(run.code, 0, printed(run));
    return jsonOf<Status>(run);
  };
  /** Replays through the CLI, then waits for the job's state. */
  const replayUntil = async (uuid: string, states: string[], args: string[] = []) => {
    const run = await bridge(['replay', uuid, ...args, '--json'], env);
    assert.equal(run.code, 0, printed(run));
    const { job_id: id } = jsonOf<{ job_id: string }>(run);
    await waitFor(async () => states.includes(await queue.getJobState(id)), `job ${id} to be ${states.join(' or ')}`, 20_000);
  };

  it('shows a stored production: the job completed, the record with each output, its size, files and bytes', async () => {
    const mp3 = pseudoRandomBytes(30_000, 1);
    const p = await sim.addProduction({
      files: [{ filename: 'episode.mp3', content: mp3 }],
    });
    await replayUntil(p.uuid, ['completed']);
    const s = await status(p.uuid);
    assert.equal(s.job?.state, 'completed');
    assert.deepEqual([s.job?.attempts, s.job?.last_error, s.job?.outcome, s.job?.force], [1, null, 'complete', false]);
    assert.deepEqual([s.record?.outcome, s.record?.final, s.record?.files, s.record?.bytes], ['complete', true, 1, mp3.length]);
    assert.deepEqual(
      s.record?.outputs.map((o) => [o.filename, o.fate, o.size]),
      [['episode.mp3', 'stored', mp3.length]],
    );
    const text = await bridge(['status', p.uuid], env);
    assert.match(text.stdout, new RegExp(`^production ${p.uuid} of the account\njob \\S+: completed \\(complete\\), 1 attempt\\(s\\);`));
    assert.match(text.stdout, /^ {2}stored +episode\.mp3 +mp3 +30000 bytes$/m);
    assert.match(text.stdout, /^ {2}files: 1, 30000 bytes$/m);

    // A forced replay shows as such, and downloads again.
    await replayUntil(p.uuid, ['completed'], ['--force']);
    const forced = await status(p.uuid);
    assert.deepEqual([forced.job?.force, forced.job?.outcome], [true, 'complete']);
    assert.equal(forced.job?.force_pending_since, null, 'done with once the forced run completed');
    assert.equal(sim.downloadsStarted(p.uuid, 'episode.mp3'), 2);
  });

  it('shows a refused output with its code, in a partial record', async () => {
    const p = await sim.addProduction({
      files: [
        { filename: 'ok.mp3', content: pseudoRandomBytes(1000, 2) },
        { filename: 'elsewhere.mp3', downloadUrl: 'https://elsewhere.example/x.mp3' },
      ],
    });
    await replayUntil(p.uuid, ['completed']);
    const s = await status(p.uuid);
    assert.equal(s.record?.outcome, 'partial');
    assert.deepEqual(
      s.record?.outputs.map((o) => [o.filename, o.fate, o.code]),
      [
        ['ok.mp3', 'stored', null],
        ['elsewhere.mp3', 'refused', 'ERR_DOWNLOAD_FOREIGN_HOST'],
      ],
    );
  });

  it('shows a job waiting for its retry: its attempts and the last error; no record yet', async () => {
    const p = await sim.addProduction({ files: [{ filename: 'a.mp3' }] });
    sim.inject({ target: 'details', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid });
    await replayUntil(p.uuid, ['delayed']);
    const s = await status(p.uuid);
    assert.deepEqual([s.job?.state, s.job?.attempts], ['delayed', 1]);
    assert.match(s.job?.last_error ?? '', /server error \(HTTP 503\)/);
    assert.equal(s.record, null);
    assert.equal(s.job?.force_pending_since, null);

    // A replay with force meanwhile: what its next attempt will do.
    const replay = await bridge(['replay', p.uuid, '--force'], env);
    assert.equal(replay.code, 0, printed(replay));
    const forced = await status(p.uuid);
    assert.equal(forced.job?.force, true);
    assert.ok(forced.job?.force_pending_since, 'the replay waits for the next attempt');
    const text = await bridge(['status', p.uuid], env);
    assert.match(text.stdout, /^ {2}replay with force asked \S+: the next run fetches and verifies every file again$/m);
  });

  it('shows a job that failed for good, with its error, and the record that says why', async () => {
    // Auphonic does not know this production: 404, no retry.
    await replayUntil('NoSuchProductionAtAll1', ['failed']);
    const s = await status('NoSuchProductionAtAll1');
    assert.equal(s.job?.state, 'failed');
    assert.match(s.job?.last_error ?? '', /not found/);
    assert.deepEqual([s.record?.outcome, s.record?.error?.code], ['error', 'ERR_AUPHONIC_NOT_FOUND']);
  });

  it('exits 1 for a production it knows nothing of (no job, no record), for the account or a connection', async () => {
    for (const args of [[], ['--connection', 'AAAAAAAAAAAAAAAAAAAAAA']]) {
      const run = await bridge(['status', 'NeverSeenXeAiHoB8U4uFJ', ...args, '--json'], env);
      assert.equal(run.code, 1);
      assert.equal(errorOf(run).error, 'ERR_UNKNOWN_PRODUCTION');
    }
  });
});

describe('pnpm bridge status, with the records on S3', () => {
  let space: TestRedisSpace;
  let sim: AuphonicSimulator;
  let s3: TestS3;
  let worker: SpawnedService;
  let env: Record<string, string>;
  before(async () => {
    space = await redisSpace();
    sim = await AuphonicSimulator.start({ apiKey: API_KEY });
    s3 = await startS3();
    env = {
      REDIS_URL: space.url.toString(),
      QUEUE_PREFIX: space.prefix,
      STORAGE_URL: `s3://${s3.bucket}/media`,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    };
    worker = startWorker(sim, env);
  });
  after(async () => {
    assert.equal(await worker.stop('SIGTERM'), 0, worker.output());
    await sim.close();
    await s3.close();
    await space.close();
  });

  it('reads the record where the worker wrote it, with the same storage settings', async () => {
    const p = await sim.addProduction({ files: [{ filename: 'on-s3.mp3', content: pseudoRandomBytes(2048, 3) }] });
    assert.equal((await bridge(['replay', p.uuid], env)).code, 0);
    const s = await waitFor(async () => {
      const run = await bridge(['status', p.uuid, '--json'], env);
      const found = run.code === 0 ? jsonOf<Status>(run) : null;
      return found?.record ? found : null;
    }, 'the record on S3');
    assert.deepEqual(
      s.record?.outputs.map((o) => [o.filename, o.fate, o.size]),
      [['on-s3.mp3', 'stored', 2048]],
    );
  });
});
