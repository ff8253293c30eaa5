// The ingress's batcher: the adds of concurrent webhooks share socket writes, a few to a write,
// deduplicate as single adds do, and, when the ingress waits for replicas or the fsync, wait
// (WAIT, WAITAOF) once per turn of the event loop for them all.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
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

  it('sends the adds of one turn four to a socket write, and each add resolves with its job', async () => {
    const batcher = new ProductionJobBatcher(queue, redis);
    // What the socket is asked to write: one writev of many chunks, or a write each.
    const stream = redis.stream as Socket & { _writev: (chunks: unknown[], cb: () => void) => void };
    const writes: number[] = [];
    const original = stream._writev;
    const originalWrite = stream._write;
    stream._writev = function (chunks, cb) {
      writes.push(chunks.length);
      return original.call(this, chunks, cb);
    };
    stream._write = function (...args: Parameters<Socket['_write']>) {
      writes.push(1);
      return originalWrite.apply(this, args);
    };
    try {
      // As webhooks come: each from a callback of its own in one turn, BullMQ writing in the microtasks after it.
      const adds = await new Promise<Promise<string>[]>((resolve) => {
        const started: Promise<string>[] = [];
        for (let i = 0; i < 12; i++) {
          setImmediate(() => {
            started.push(batcher.add({ uuid: uuid(i), owner: OWNER, reportedStatus: 3 }));
            if (started.length === 12) resolve(started);
          });
        }
      });
      const ids = await Promise.all(adds);
      assert.deepEqual(writes, [4, 4, 4]);
      const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
      assert.deepEqual(
        jobs.map((j) => j?.data.uuid),
        Array.from({ length: 12 }, (_, i) => uuid(i)),
      );
      assert.equal(await queue.getWaitingCount(), 12);
      assert.equal(stream.writableCorked, 0, 'uncorked after the turn');
    } finally {
      stream._writev = original;
      stream._write = originalWrite;
    }
  });

  it('deduplicates within a turn as single adds do: one job, the newest custom_data', async () => {
    const batcher = new ProductionJobBatcher(queue, redis, { afterBatch: async () => {} });
    const [a, b] = await Promise.all([
      batcher.add({ uuid: uuid(1), owner: OWNER, reportedStatus: 3, customData: { v: 1 } }),
      batcher.add({ uuid: uuid(1), owner: OWNER, reportedStatus: 3, customData: { v: 2 } }),
    ]);
    assert.equal(a, b);
    assert.equal(await queue.getWaitingCount(), 1);
    assert.deepEqual((await queue.getJob(a))?.data.customData, { v: 2 });
  });

  it('waits once per turn, with the earliest deadline, before any add of it resolves; a failed wait fails them all', async () => {
    const waits: number[] = [];
    let fail = false;
    const batcher = new ProductionJobBatcher(queue, redis, {
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
