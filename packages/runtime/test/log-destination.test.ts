import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BufferedDestination } from '../src/log-destination.ts';
import { isoTimeField } from '../src/log-time.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('log lines: gathered, and written together within a few milliseconds', () => {
  it('writes the lines of many turns together once flushMs has passed, all of them, in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-dest-'));
    const file = await open(join(dir, 'out.log'), 'w');
    const path = join(dir, 'out.log');
    try {
      const dest = new BufferedDestination(file.fd, { flushMs: 200 });
      for (const n of [1, 2, 3]) {
        dest.write(`{"n":${n}}\n`);
        await turn();
      }
      // Read synchronously: the turns above ended, and still nothing went out.
      assert.equal(readFileSync(path, 'utf8'), '', 'nothing written before flushMs');
      await sleep(400);
      assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n{"n":3}\n');
      dest.write('{"n":4}\n');
      dest.flushSync();
      assert.match(readFileSync(path, 'utf8'), /\{"n":4\}\n$/, 'logger.flush() writes at once');
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes as it goes within a turn that logs a great deal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-dest-'));
    const file = await open(join(dir, 'out.log'), 'w');
    try {
      const dest = new BufferedDestination(file.fd);
      const line = `{"pad":"${'x'.repeat(90)}"}\n`;
      for (let i = 0; i < 2000; i++) dest.write(line);
      const within = readFileSync(join(dir, 'out.log'), 'utf8').length;
      assert.ok(within >= 64 * 1024 && within < 2000 * line.length, `${within} bytes written within the turn`);
      dest.flushSync();
      assert.equal((await readFile(join(dir, 'out.log'), 'utf8')).length, 2000 * line.length);
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps what was gathered when process.exit() cut it short: a service's last words reach stdout", async () => {
    const logger = fileURLToPath(new URL('../src/logger.ts', import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger({ service: 'test', level: 'info' });
      for (const n of [1, 2, 3]) log.info({ n }, 'last words');
      process.exit(3);
    `;
    const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const err = (await run.then(
      () => assert.fail('exits 3'),
      (e: { code: number; stdout: string }) => e,
    )) as { code: number; stdout: string };
    assert.equal(err.code, 3);
    const lines = err.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { n: number; msg: string });
    assert.deepEqual(
      lines.map((l) => l.n),
      [1, 2, 3],
    );
  });

  it('neither holds up a process that is done nor loses its last lines', async () => {
    const logger = fileURLToPath(new URL('../src/logger.ts', import.meta.url));
    // A minute to wait before writing: the lines must come from the exit, not the timer.
    const script = `
      const { BufferedDestination } = await import(${JSON.stringify(fileURLToPath(new URL('../src/log-destination.ts', import.meta.url)))});
      const { createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger({ service: 'test', level: 'info', destination: new BufferedDestination(1, { flushMs: 60_000 }) });
      for (const n of [1, 2]) log.info({ n }, 'done');
    `;
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    assert.ok(Date.now() - started < 30_000, 'the process ended without waiting for the flush');
    assert.deepEqual(
      stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { n: number }).n),
      [1, 2],
    );
  });
});

describe('log timestamps', () => {
  it("are pino's ISO time field, made anew each millisecond", async () => {
    const field = /^,"time":"(.+)"$/;
    const before = Date.now();
    const first = isoTimeField();
    const after = Date.now();
    const at = Date.parse(field.exec(first)?.[1] ?? '');
    assert.ok(at >= before && at <= after, `${first} between ${before} and ${after}`);
    assert.equal(first, `,"time":"${new Date(at).toISOString()}"`);
    // A timer may fire a millisecond short of its delay by Date.now() (libuv's cached loop time): ask only for a later time.
    await sleep(5);
    const later = Date.parse(field.exec(isoTimeField())?.[1] ?? '');
    assert.ok(later > at, `a later line carries a later time (${later - at} ms later)`);
  });
});
