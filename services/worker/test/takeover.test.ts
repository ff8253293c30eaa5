import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnService, waitFor } from '@auphonic-bridge/testing';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('a worker killed mid-download (SIGKILL)', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const incoming = () => readdir(join(f.storageDir, '.incoming')).catch((): string[] => []);
  const checkpointed = async () => {
    for (const name of await incoming()) {
      if (!name.endsWith('.ckpt')) continue;
      const value = Number((await readFile(join(f.storageDir, '.incoming', name), 'utf8').catch(() => '')).trim());
      if (value > 0) return value;
    }
    return 0;
  };

  it('is taken over by another worker within 30 s, which resumes from the bytes on disk and leaves none behind', async () => {
    const content = bytes(24 * 1024 * 1024, 81);
    const p = await f.sim.addProduction({ files: [{ filename: 'long.wav', content }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 3 * 1024 * 1024, times: 1, uuid: p.uuid });
    const first = spawnService('worker', f.env);
    const job = await f.enqueue(p.uuid);
    const safe = await waitFor(checkpointed, 'the first worker to have checkpointed some bytes', 20_000);

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    const second = spawnService('worker', f.env);
    try {
      const end = await f.settled(job);
      assert.equal(end.state, 'completed', end.reason);
      assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'long.wav')), content);

      const afterKill = f.sim.requests.filter((r) => r.origin === 'storage' && r.path.endsWith('/long.wav') && r.at > killedAt);
      const takeoverMs = (afterKill[0]?.at ?? Number.POSITIVE_INFINITY) - killedAt;
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(afterKill[0]?.range ?? '')?.[1] ?? 0);
      process.stdout.write(`# takeover ${takeoverMs} ms after SIGKILL, resumed at byte ${resumedAt} of ${content.length}\n`);
      assert.ok(takeoverMs < 30_000, `taken over ${takeoverMs} ms after the kill`);
      assert.ok(resumedAt >= safe, `resumed at byte ${resumedAt}, not from the start (checkpoint ${safe})`);
      assert.match(second.output(), /taking over the bytes a dead worker left/);
      assert.deepEqual(await incoming(), [], 'no temporary file left');
    } finally {
      await second.stop('SIGTERM');
    }
  });

  it('keeps, of a download shared out in ranges, only the bytes in order from the start', async () => {
    const small = { filename: 'intro.mp3', content: bytes(1024 * 1024, 82) };
    const big = { filename: 'long.flac', content: bytes(12 * 1024 * 1024, 83) };
    const p = await f.sim.addProduction({ files: [small, big] });
    for (const { filename } of [small, big]) {
      f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 2 * 1024 * 1024, times: 100, uuid: p.uuid, filename });
    }
    const env = { ...f.env, DOWNLOAD_SPLIT_MIN_MB: '1' };
    const first = spawnService('worker', env);
    const job = await f.enqueue(p.uuid);
    // A range asked of Auphonic's download link (answered with the redirect at once; storage's answer is logged only when done).
    const rangeAsked = () => f.sim.requests.find((r) => r.origin === 'api' && r.path.endsWith('/long.flac') && r.range);
    const asked = await waitFor(rangeAsked, 'a slot that had the small output to take a range of the big one', 20_000);
    const rangeStart = Number(/^bytes=(\d+)-$/.exec(asked.range ?? '')?.[1]);
    // Killed while that range is being written in place.
    await sleep(500);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    const second = spawnService('worker', env);
    try {
      const end = await f.settled(job);
      assert.equal(end.state, 'completed', end.reason);
      for (const { filename, content } of [small, big]) {
        assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, filename)), content);
      }
      const resumed = f.sim.requests.find((r) => r.path.endsWith('/long.flac') && r.at > killedAt);
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(resumed?.range ?? '')?.[1] ?? 0);
      assert.ok(resumedAt < rangeStart, `resumed at byte ${resumedAt}, below the range taken at ${rangeStart}`);
      assert.deepEqual(await incoming(), [], 'no temporary file left');
    } finally {
      await second.stop('SIGTERM');
    }
  });
});
