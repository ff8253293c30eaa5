import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { addProductionJob, createProductionQueue, type Owner, type ProductionJobData, type ProductionQueue, QUEUES } from '../src/index.ts';

const UUID = 'ReplayXnXeAiHoB8U4uFJQ';
const OWNER: Owner = { kind: 'connection', id: 'BBBBBBBBBBBBBBBBBBBBBB' };

describe('addProductionJob: a replay (force) of a production whose job is still in the queue', () => {
  let space: TestRedisSpace;
  let redis: Redis;
  let queue: ProductionQueue;
  const connections: Redis[] = [];
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString(), { maxRetriesPerRequest: null });
    queue = createProductionQueue(redis, { prefix: space.prefix });
  });
  after(async () => {
    await queue.close();
    for (const c of connections) c.disconnect();
    redis.disconnect();
    await space.close();
  });
  beforeEach(() => queue.obliterate({ force: true }));

  const webhook = () => addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: 3, customData: { show: 'v1' } });
  const replay = (force: boolean) => addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: null, force });
  const all = () => queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  const worker = (process: (job: Job<ProductionJobData>) => Promise<void>) => {
    const connection = redis.duplicate();
    connections.push(connection);
    return new Worker<ProductionJobData>(QUEUES.productions, process, {
      connection,
      prefix: space.prefix,
      settings: { backoffStrategy: () => 60_000 },
    });
  };

  it('without force, joins the waiting job and changes nothing', async () => {
    const first = await webhook();
    const before = (await queue.getJob(first.id as string))?.data;
    assert.equal((await replay(false)).id, first.id);
    assert.deepEqual((await queue.getJob(first.id as string))?.data, before);
  });

  it('with force, gives the waiting job force and the replay time, keeping its custom_data', async () => {
    const first = await webhook();
    await new Promise((r) => setTimeout(r, 5));
    const again = await replay(true);
    assert.equal(again.id, first.id);
    const [job, ...rest] = await all();
    assert.equal(rest.length, 0, 'no second job');
    assert.equal(job?.data.force, true);
    assert.deepEqual(job?.data.customData, { show: 'v1' });
    assert.ok((job?.data.receivedAt ?? '') > first.data.receivedAt, 'the time of the replay: what was stored before it is fetched again');
  });

  it('with force, gives a job waiting for its retry force, and it stays delayed', async () => {
    const failing = worker(async () => {
      throw new Error('Auphonic is down');
    });
    const first = await webhook();
    await waitFor(async () => (await queue.getJobState(first.id as string)) === 'delayed', 'the job to wait for its retry');
    await failing.close();
    await replay(true);
    const [job, ...rest] = await all();
    assert.equal(rest.length, 0);
    assert.equal(await job?.getState(), 'delayed');
    assert.equal(job?.data.force, true);
  });

  it('with force while the job runs: it runs once more after, forced, with its custom_data', async () => {
    let release: () => void = () => {};
    const seen: Array<Pick<ProductionJobData, 'force' | 'customData'>> = [];
    const running = worker(async (job) => {
      seen.push({ force: job.data.force, customData: job.data.customData });
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
    });
    try {
      const first = await webhook();
      await waitFor(async () => (await queue.getJobState(first.id as string)) === 'active', 'the job to run');
      await replay(true);
      release();
      await waitFor(() => seen.length === 2, 'the second run');
      assert.deepEqual(seen, [
        { force: undefined, customData: { show: 'v1' } },
        { force: true, customData: { show: 'v1' } },
      ]);
    } finally {
      await running.close();
    }
  });
});
