import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnService, waitFor } from '@auphonic-bridge/testing';

const TOY = fileURLToPath(new URL('./fixtures/toy-service.ts', import.meta.url));

function runToy(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [TOY], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number);
  return { child, output: () => out, exited };
}

describe('runService', () => {
  it('on SIGTERM destroys the service and ends when the loop drains, exit code 0, no forced exit', async () => {
    const toy = runToy();
    await waitFor(() => toy.output().includes('started'), 'the service to start');
    const asked = Date.now();
    toy.child.kill('SIGTERM');
    assert.equal(await toy.exited, 0, toy.output());
    assert.ok(Date.now() - asked < 900, 'ended on its own, before the deadline');
    assert.match(toy.output(), /destroyed/);
    assert.doesNotMatch(toy.output(), /deadline passed/);
  });

  it('names what still holds the process when destroy() leaked it, and ends it at the deadline with 1', async () => {
    const toy = runToy({ TOY_LEAK: '1' });
    await waitFor(() => toy.output().includes('started'), 'the service to start');
    toy.child.kill('SIGTERM');
    assert.equal(await toy.exited, 1);
    assert.match(toy.output(), /shutdown deadline passed; exiting/);
    assert.match(toy.output(), /"holding":\[[^\]]*"Timeout"/);
  });

  it('exits 78 when start() finds a setting that does not fit (a ConfigError), said once, no stack, after destroying', async () => {
    const toy = runToy({ TOY_START_CONFIG: '1' });
    assert.equal(await toy.exited, 78, toy.output());
    assert.equal(toy.output().match(/TOY_SETTING: does not fit/g)?.length, 1, toy.output());
    assert.doesNotMatch(toy.output(), /"stack"|failed to start/);
    assert.match(toy.output(), /destroyed/);
  });

  it('shuts down on an unhandled rejection, exit code 1', async () => {
    const toy = runToy({ TOY_REJECT: '1' });
    assert.equal(await toy.exited, 1);
    assert.match(toy.output(), /unexpected error; shutting down/);
    assert.match(toy.output(), /nobody caught me/);
    assert.match(toy.output(), /destroyed/);
  });

  it('exits 78 on a bad setting, before starting anything', async () => {
    const worker = spawnService('worker', { STORAGE_DIR: '/tmp/x', AUPHONIC_API_KEY: 'short' });
    assert.equal(await worker.exited, 78);
  });
});
