import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnService, waitFor } from '@auphonic-bridge/testing';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('worker process on SIGTERM (pnpm start:worker)', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const partFiles = async () => (await readdir(join(f.storageDir, '.incoming')).catch(() => [])).filter((n) => n.endsWith('.part'));

  it('finishes a download that fits in the shutdown deadline before exiting', async () => {
    const content = bytes(600_000, 22);
    const p = await f.sim.addProduction({ files: [{ filename: 'short.mp3', content }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 600_000, times: 1, uuid: p.uuid });
    const worker = spawnService('worker', { ...f.env, SHUTDOWN_TIMEOUT_MS: '20000' });
    const job = await f.enqueue(p.uuid);
    await waitFor(async () => (await partFiles()).length > 0, 'the download to start');
    assert.equal(await worker.stop('SIGTERM'), 0, worker.output());
    const done = await f.queue.getJob(job.id as string);
    assert.equal(await done?.getState(), 'completed');
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'short.mp3')), content);
  });

  it('releases a download it cannot finish in time, leaves no partial file, and a second worker process completes it', async () => {
    const content = bytes(4_000_000, 21);
    const p = await f.sim.addProduction({ files: [{ filename: 'long.mp3', content }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 400_000, times: 1, uuid: p.uuid });
    const worker = spawnService('worker', { ...f.env, SHUTDOWN_TIMEOUT_MS: '300' });
    const job = await f.enqueue(p.uuid);
    // Mid-download: bytes are in a temporary file.
    await waitFor(async () => {
      for (const name of await partFiles()) if ((await stat(join(f.storageDir, '.incoming', name))).size > 0) return true;
      return false;
    }, 'the download to be under way');

    assert.equal(await worker.stop('SIGTERM'), 0, worker.output());
    assert.match(worker.output(), /job released to the queue/);
    assert.deepEqual(await partFiles(), [], 'no temporary file left');
    assert.ok(!(await f.listFiles()).some((x) => x.startsWith(`account/${p.uuid}`)), 'nothing under the final path');
    const released = await f.queue.getJob(job.id as string);
    assert.equal(await released?.getState(), 'waiting');
    assert.equal(released?.attemptsMade, 0, 'a release is not a failed attempt');

    const second = spawnService('worker', f.env);
    try {
      const end = await f.settled(job);
      assert.equal(end.state, 'completed', end.reason);
      assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'long.mp3')), content);
      // The log line travels its own pipe: it may reach us after the job's state in Redis.
      await waitFor(() => second.output().includes('production stored'), 'the second worker to log the stored production');
    } finally {
      assert.equal(await second.stop('SIGTERM'), 0);
    }
  });
});
