import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  addProductionJob,
  createProductionQueue,
  type Owner,
  type ProductionJobData,
  type ProductionQueue,
  pendingRepeatsOf,
  productionDedupId,
  QUEUES,
  readPendingRepeats,
} from '../src/index.ts';

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
  beforeEach(async () => {
    await queue.obliterate({ force: true });
    // What earlier tests' repeats left pending (obliterate leaves it: the hash is the bridge's, not BullMQ's).
    await redis.del(`${queue.qualifiedName}:pending:${productionDedupId(OWNER, UUID)}`);
  });

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

  it("an older replay's force (a job retried by hand brings its own) never takes the place of a newer one", async () => {
    const newer = await replay(true);
    const at = newer.data.receivedAt;
    await addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: null, force: true, receivedAt: '2020-01-01T00:00:00.000Z' });
    assert.equal((await queue.getJob(newer.id as string))?.data.receivedAt, at, "the job's");
    assert.equal((await pendingRepeatsOf(queue, OWNER, UUID)).forceAt, at, 'the pending one');
  });

  describe('repeats while the job runs (what they add waits beside it for the next run)', () => {
    const plain = () => addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: 3 });
    const service = (show: string) => addProductionJob(queue, { uuid: UUID, owner: OWNER, reportedStatus: 3, customData: { show } });
    /** A worker that starts its runs as the production worker does, and holds the first until released. */
    const runs = () => {
      const seen: Array<Pick<ProductionJobData, 'force' | 'customData'>> = [];
      let release: () => void = () => {};
      const w = worker(async (job) => {
        const { data, settle } = await readPendingRepeats(redis, job);
        seen.push({ force: data.force, customData: data.customData });
        if (seen.length === 1) await new Promise<void>((r) => (release = r));
        await settle();
      });
      return { seen, release: () => release(), close: () => w.close() };
    };
    const whileRunning = async (during: () => Promise<unknown>) => {
      const r = runs();
      try {
        await webhook();
        await waitFor(() => r.seen.length === 1, 'the job to run');
        await during();
        r.release();
        await waitFor(() => r.seen.length === 2, 'the run after it');
        return r;
      } finally {
        await r.close();
      }
    };

    it("a plain repeat after a replay's force and a newer custom_data loses neither", async () => {
      const r = await whileRunning(async () => {
        await service('v2');
        await replay(true);
        await plain();
      });
      assert.deepEqual(r.seen, [
        { force: undefined, customData: { show: 'v1' } },
        { force: true, customData: { show: 'v2' } },
      ]);
    });

    it("concurrent repeats keep each other's fields", async () => {
      const r = await whileRunning(() => Promise.all([replay(true), service('v3')]));
      assert.deepEqual(r.seen[1], { force: true, customData: { show: 'v3' } });
    });

    it('every attempt of the run after has them, and once it is done the next run does not', async () => {
      const forced: Array<boolean | undefined> = [];
      let release: () => void = () => {};
      const w = worker(async (job) => {
        const { data, settle } = await readPendingRepeats(redis, job);
        forced.push(data.force);
        if (forced.length === 1) await new Promise<void>((r) => (release = r));
        // The run after the replay fails its first attempt.
        if (forced.length === 2) throw new Error('Auphonic is down');
        await settle();
      });
      try {
        await webhook();
        await waitFor(() => forced.length === 1, 'the job to run');
        await replay(true);
        await plain(); // BullMQ's data for the run after is this one's: no force
        release();
        await waitFor(() => forced.length === 2, 'the run after');
        const after = (await all()).find((j) => j.attemptsMade === 1 && j.finishedOn === undefined);
        await after?.promote().catch(() => {});
        await waitFor(() => forced.length === 3, 'its retry');
        await waitFor(async () => (await all()).every((j) => j.finishedOn !== undefined), 'it to complete');
        await plain();
        await waitFor(() => forced.length === 4, 'the next webhook');
        assert.deepEqual(forced, [undefined, true, true, undefined]);
      } finally {
        await w.close();
      }
    });
  });
});
