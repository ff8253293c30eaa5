// A worker that Redis stops answering while its socket stays open (a silent partition, a
// stopped Redis): its lock renewals only wait, so it must stop writing on its own once its
// locks have expired for the other workers. A TCP proxy between it and Redis is frozen here.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FreezableProxy, startFreezableProxy, waitFor } from '@auphonic-bridge/testing';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('a worker that Redis stops answering mid-download', () => {
  let f: WorkerFixture;
  let proxy: FreezableProxy;
  before(async () => {
    f = await startFixture();
    proxy = await startFreezableProxy({ host: f.redis.url.hostname, port: Number(f.redis.url.port) });
  });
  after(async () => {
    proxy.thaw();
    await f.close();
    await proxy.close();
  });

  /** Bytes in the temporary files of downloads under way. */
  const inFlight = async () => {
    const dir = join(f.storageDir, '.incoming');
    let total = 0;
    for (const name of await readdir(dir).catch((): string[] => [])) {
      if (name.endsWith('.part')) total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  };

  it('stops writing once Redis has been silent for LOCK_DURATION_MS (another worker may hold the job by then)', async () => {
    await f.startWorker({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      LOCK_DURATION_MS: '3000',
      STALLED_INTERVAL_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const p = await f.sim.addProduction({ files: [{ filename: 'long.wav', content: bytes(1_500_000, 31) }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 150_000, uuid: p.uuid });
    await f.enqueue(p.uuid);
    await waitFor(async () => (await inFlight()) > 100_000, 'the download to be under way');
    proxy.freeze();
    const froze = Date.now();
    await waitFor(() => f.logs.text.includes('Redis has not answered for LOCK_DURATION_MS'), 'the worker to stop its jobs', 10_000);
    // Silent since its last answer, asked once a second: at least LOCK_DURATION_MS less that second after the freeze.
    assert.ok(Date.now() - froze >= 3_000 - 1_100, `stopped after ${Date.now() - froze} ms`);
    await sleep(500);
    const then = await inFlight();
    await sleep(1_500);
    assert.equal(await inFlight(), then, 'nothing more written after the jobs were stopped');
    assert.match(f.logs.text, /another worker took this job over; stopped/);
    proxy.thaw();
  });
});
