import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  addProductionJob,
  addProductionJobId,
  createProductionQueue,
  type Owner,
  type ProductionJobData,
  type ProductionQueue,
  QUEUES,
} from '../src/index.ts';

const UUID = 'ShfFXnXeAiHoB8U4uFJQS3';
const OWNER: Owner = { kind: 'connection', id: 'AAAAAAAAAAAAAAAAAAAAAA' };

// One Redis for the file; each test starts from an empty queue.
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

describe('addProductionJob: a repeat webhook keeps the newest custom_data', () => {
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

describe("addProductionJobId: a plain webhook's job, added without a Job object, is the job queue.add makes", () => {
  const ACCOUNT: Owner = { kind: 'account' };
  /** What one add wrote: the job's hash, its deduplication key, and the events it appended. */
  const added = async (add: () => Promise<string>) => {
    const [last] = await redis.xrevrange(queue.toKey('events'), '+', '-', 'COUNT', 1);
    const id = await add();
    const hash = await redis.hgetall(queue.toKey(id));
    const events = (await redis.xrange(queue.toKey('events'), last ? `(${last[0]}` : '-', '+')).map(([, fields]) => fields);
    const dedup = await redis.get(`${queue.toKey('de')}:${hash.deid}`);
    return { id, hash, events, dedup };
  };
  /** A job's hash and events with what differs between two jobs by nature (id, uuid, times) set aside. */
  const shape = (a: Awaited<ReturnType<typeof added>>, uuid: string) => {
    const { timestamp, data, opts, ...hash } = a.hash;
    const { receivedAt, ...rest } = JSON.parse(data as string) as ProductionJobData;
    return {
      hash: { ...hash, deid: hash.deid?.replace(uuid, 'UUID') },
      opts: JSON.parse(opts as string, (k, v) => (k === 'id' && typeof v === 'string' ? v.replace(uuid, 'UUID') : v)),
      data: { ...rest, uuid: rest.uuid.replace(uuid, 'UUID') },
      events: a.events.map((fields) => fields.map((f) => f.replace(a.id, 'ID'))),
      dedupIsTheJob: a.dedup === a.id,
      recent: Math.abs(Number(timestamp) - Date.now()) < 60_000 && !Number.isNaN(Date.parse(receivedAt)),
    };
  };

  it('stores the same hash, options, deduplication key and events', async () => {
    const viaQueueAdd = await added(
      async () => (await addProductionJob(queue, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3 })).id as string,
    );
    const other = 'AAAAAAAAAAAAAAAAAAAAA1';
    const lean = await added(() => addProductionJobId(queue, { uuid: other, owner: ACCOUNT, reportedStatus: 3 }));
    assert.deepEqual(shape(lean, other), shape(viaQueueAdd, UUID));
    assert.equal(shape(lean, other).dedupIsTheJob, true);
    assert.equal(shape(lean, other).recent, true);
    assert.deepEqual((await queue.getJob(lean.id))?.opts, {
      ...(await queue.getJob(viaQueueAdd.id))?.opts,
      deduplication: { id: `account-${other}`, keepLastIfActive: true },
    });
  });

  it('deduplicates a repeat into the waiting job, as queue.add does', async () => {
    const first = await addProductionJobId(queue, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3 });
    const again = await addProductionJobId(queue, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3 });
    const viaQueueAdd = await addProductionJob(queue, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3 });
    assert.equal(again, first);
    assert.equal(viaQueueAdd.id, first);
    assert.equal(await queue.getWaitingCount(), 1);
  });

  it('is run by a worker with its data and attempts', async () => {
    const id = await addProductionJobId(queue, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3 });
    const connection = redis.duplicate();
    connections.push(connection);
    const seen: Array<{ id?: string; data: ProductionJobData; attempts?: number }> = [];
    const worker = new Worker<ProductionJobData>(
      QUEUES.productions,
      async (job) => {
        seen.push({ id: job.id, data: job.data, attempts: job.opts.attempts });
      },
      { connection },
    );
    try {
      await waitFor(async () => seen.length === 1, 'the worker to run the job');
      assert.equal(seen[0]?.id, id);
      assert.deepEqual({ ...seen[0]?.data, receivedAt: 'then' }, { uuid: UUID, owner: ACCOUNT, reportedStatus: 3, receivedAt: 'then' });
      assert.equal(seen[0]?.attempts, 100_000);
    } finally {
      await worker.close();
    }
  });
});
