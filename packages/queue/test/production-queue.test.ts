import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { addProductionJob, createProductionQueue, type Owner, type ProductionJobData, type ProductionQueue, QUEUES } from '../src/index.ts';

const UUID = 'ShfFXnXeAiHoB8U4uFJQS3';
const OWNER: Owner = { kind: 'connection', id: 'AAAAAAAAAAAAAAAAAAAAAA' };

describe('addProductionJob: a repeat webhook keeps the newest custom_data', () => {
  let server: TestRedis;
  let redis: Redis;
  let queue: ProductionQueue;
  // BullMQ leaves a connection it was given open.
  const connections: Redis[] = [];
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url.toString(), { maxRetriesPerRequest: null });
    queue = createProductionQueue(redis);
  });
  after(async () => {
    await queue.close();
    for (const c of connections) c.disconnect();
    redis.disconnect();
    await server.close();
  });
  beforeEach(() => queue.obliterate({ force: true }));

  const add = (customData: unknown) => addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: null, customData });
  const all = () => queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  /** A worker whose every attempt runs `process`, retrying after a minute. */
  const worker = (process: (job: Job<ProductionJobData>) => Promise<void>) => {
    const connection = redis.duplicate();
    connections.push(connection);
    return new Worker<ProductionJobData>(QUEUES.productions, process, { connection, settings: { backoffStrategy: () => 60_000 } });
  };

  it('while the job waits: one job, with the newest custom_data', async () => {
    const first = await add({ show: 'v1' });
    const second = await add({ show: 'v2' });
    assert.equal(second.id, first.id);
    const [job, ...rest] = await all();
    assert.equal(rest.length, 0);
    assert.deepEqual(job?.data.customData, { show: 'v2' });
  });

  it('while the job waits for a retry (delayed): one job, still delayed, with its attempts, and the newest custom_data', async () => {
    const failing = worker(async () => {
      throw new Error('Auphonic is down');
    });
    const first = await add({ show: 'v1' });
    await waitFor(async () => (await queue.getJobState(first.id as string)) === 'delayed', 'the job to wait for its retry');
    await failing.close();

    const second = await add({ show: 'v2' });
    assert.equal(second.id, first.id);
    const [job, ...rest] = await all();
    assert.equal(rest.length, 0, 'no second job');
    assert.equal(await job?.getState(), 'delayed');
    assert.equal(job?.attemptsMade, 1);
    assert.deepEqual(job?.data.customData, { show: 'v2' });
    assert.equal(job?.data.uuid, UUID);
  });

  it('while the job runs: it runs once more after, with the newest custom_data', async () => {
    let release: () => void = () => {};
    const seen: unknown[] = [];
    const running = worker(async (job) => {
      seen.push(job.data.customData);
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
    });
    try {
      const first = await add({ show: 'v1' });
      await waitFor(async () => (await queue.getJobState(first.id as string)) === 'active', 'the job to run');
      await add({ show: 'v2' });
      release();
      await waitFor(() => seen.length === 2, 'the second run');
      assert.deepEqual(seen, [{ show: 'v1' }, { show: 'v2' }]);
    } finally {
      await running.close();
    }
  });

  it('the same custom_data again changes nothing', async () => {
    const first = await add({ show: 'v1' });
    const before = (await queue.getJob(first.id as string))?.data;
    await add({ show: 'v1' });
    assert.deepEqual((await queue.getJob(first.id as string))?.data, before);
  });
});
