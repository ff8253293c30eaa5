// The ingress's batcher, when it waits for replicas or the fsync: the adds of one turn of the
// event loop deduplicate as single adds do, and wait (WAIT, WAITAOF) once for them all.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { redisSpace, type TestRedisSpace } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { createProductionQueue, type Owner, ProductionJobBatcher, type ProductionQueue } from '../src/index.ts';

const OWNER: Owner = { kind: 'account' };
const uuid = (i: number) => `Batch${String(i).padStart(17, '0')}`;

describe('ProductionJobBatcher', () => {
  let space: TestRedisSpace;
  let redis: Redis;
  let queue: ProductionQueue;
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString(), { maxRetriesPerRequest: 1 });
    queue = createProductionQueue(redis, { prefix: space.prefix });
    await queue.waitUntilReady();
  });
  after(async () => {
    await queue.close();
    redis.disconnect();
    await space.close();
  });
  beforeEach(() => queue.obliterate({ force: true }));

  it('deduplicates within a turn as single adds do: one job, the newest custom_data', async () => {
    const batcher = new ProductionJobBatcher(queue, { afterBatch: async () => {} });
    const [a, b] = await Promise.all([
      batcher.add({ uuid: uuid(1), owner: OWNER, reportedStatus: 3, customData: { v: 1 } }),
      batcher.add({ uuid: uuid(1), owner: OWNER, reportedStatus: 3, customData: { v: 2 } }),
    ]);
    assert.equal(a.id, b.id);
    assert.equal(await queue.getWaitingCount(), 1);
    assert.deepEqual((await queue.getJob(a.id as string))?.data.customData, { v: 2 });
  });

  it('waits once per turn, with the earliest deadline, before any add of it resolves; a failed wait fails them all', async () => {
    const waits: number[] = [];
    let fail = false;
    const batcher = new ProductionJobBatcher(queue, {
      afterBatch: async (deadline) => {
        waits.push(deadline);
        if (fail) throw new Error('the replicas did not answer');
      },
    });
    const now = Date.now();
    await Promise.all([
      batcher.add({ uuid: uuid(1), owner: OWNER, reportedStatus: 3 }, now + 5_000),
      batcher.add({ uuid: uuid(2), owner: OWNER, reportedStatus: 3 }, now + 1_000),
    ]);
    assert.deepEqual(waits, [now + 1_000]);

    fail = true;
    const outcomes = await Promise.allSettled([
      batcher.add({ uuid: uuid(3), owner: OWNER, reportedStatus: 3 }),
      batcher.add({ uuid: uuid(4), owner: OWNER, reportedStatus: 3 }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
    assert.equal(waits.length, 2);
  });
});
