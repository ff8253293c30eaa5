import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { OneRunPerJobWorker } from '../src/index.ts';

describe('OneRunPerJobWorker: the same worker retaking a job whose lost run still unwinds', () => {
  let space: TestRedisSpace;
  let redis: Redis;
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString(), { maxRetriesPerRequest: null });
  });
  after(async () => {
    redis.disconnect();
    await space.close();
  });

  it('puts off a retake until the old run is over, so that its lock is renewed and no two runs overlap', async () => {
    const queue = new Queue('retake', { connection: redis, prefix: space.prefix });
    const lockKey = (id: string) => `${space.prefix}:retake:${id}:lock`;
    let running = 0;
    let overlapped = false;
    const runs: { token: string; lockHeld: boolean[] }[] = [];
    const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
      running += 1;
      overlapped ||= running > 1;
      const run = { token: token ?? '', lockHeld: [] as boolean[] };
      runs.push(run);
      try {
        if (runs.length === 1) {
          // The first run loses its lock, is cancelled, and takes a while to let go (a slow write, say).
          await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
          await sleep(1_000);
          throw new Error('cancelled: lock lost');
        }
        // The retake works for longer than its lock lasts unless renewed, checking that it holds it.
        for (let t = 0; t < 14; t++) {
          run.lockHeld.push((await redis.get(lockKey(job.id ?? ''))) === token);
          await sleep(250);
        }
        return 'stored';
      } finally {
        running -= 1;
      }
    };
    const connection = redis.duplicate();
    const worker = new OneRunPerJobWorker('retake', processor, {
      connection,
      prefix: space.prefix,
      concurrency: 2,
      lockDuration: 2_000,
      stalledInterval: 200,
      maxStalledCount: 5,
    });
    worker.on('error', () => {}); // the lost run's own moveToFailed is refused: its lock is gone
    try {
      const job = await queue.add('production', {}, { attempts: 1 });
      await waitFor(() => runs.length === 1, 'the first run');
      // What the Redis watchdog does after a silence: the lock has lapsed, the run is told to stop.
      await redis.del(lockKey(job.id ?? ''));
      worker.cancelJob(job.id ?? '', 'lock lost');
      await waitFor(async () => (await queue.getJob(job.id ?? ''))?.finishedOn !== undefined, 'the job to finish', 20_000);
      const done = (await queue.getJob(job.id ?? '')) as Job;
      assert.equal(await done.getState(), 'completed', done.failedReason);
      assert.equal(done.returnvalue, 'stored');
      assert.equal(runs.length, 2, 'run twice: the lost run and the retake');
      assert.ok(done.attemptsStarted >= 3, `a retake came while the lost run unwound, and was put off (${done.attemptsStarted} takes)`);
      assert.equal(overlapped, false, 'the retake did not work beside the run it replaces');
      assert.deepEqual(
        runs[1]?.lockHeld.map((held, i) => (held ? '' : `lost at sample ${i}`)).filter(Boolean),
        [],
        "the retake's lock was renewed throughout",
      );
    } finally {
      await worker.close(true);
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });
});
