import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type SpawnedService, spawnService, waitFor } from '@auphonic-bridge/testing';
import { startFixture, type WorkerFixture } from './helpers.ts';

/** libuv's pool threads of a process, by the name libuv gives them. */
async function poolThreads(pid: number): Promise<number> {
  let n = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const name = await readFile(`/proc/${pid}/task/${task}/comm`, 'utf8').catch(() => '');
    if (name.trim() === 'libuv-worker') n += 1;
  }
  return n;
}

describe('worker process: the thread pool', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const threadsOf = async (env: Record<string, string>) => {
    const worker: SpawnedService = spawnService('worker', { ...f.env, ...env });
    try {
      // Ready means its storage was checked: the pool has started.
      await waitFor(() => worker.output().includes('worker ready'), 'the worker to be ready', 30_000);
      return await poolThreads(worker.child.pid as number);
    } finally {
      await worker.stop();
    }
  };

  it('runs two threads by default (see src/threadpool.ts), also when the setting is empty, and as many as UV_THREADPOOL_SIZE says when it is set', async () => {
    assert.equal(await threadsOf({}), 2);
    // Empty, as docker compose passes an unset one: the default too (libuv alone would take it for 1).
    assert.equal(await threadsOf({ UV_THREADPOOL_SIZE: '' }), 2);
    assert.equal(await threadsOf({ UV_THREADPOOL_SIZE: '3' }), 3);
  });
});
