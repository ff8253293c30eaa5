import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TurnBatchedDestination } from '../src/log-destination.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('log lines: written together at the end of their turn of the event loop', () => {
  it('writes the lines of a turn once the turn ends, all of them, in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-dest-'));
    const file = await open(join(dir, 'out.log'), 'w');
    try {
      const dest = new TurnBatchedDestination(file.fd);
      for (const n of [1, 2, 3]) dest.write(`{"n":${n}}\n`);
      // Read synchronously: an await would let the turn end.
      assert.equal(readFileSync(join(dir, 'out.log'), 'utf8'), '', 'nothing written within the turn');
      await turn();
      assert.equal(await readFile(join(dir, 'out.log'), 'utf8'), '{"n":1}\n{"n":2}\n{"n":3}\n');
      dest.write('{"n":4}\n');
      dest.flushSync();
      assert.match(await readFile(join(dir, 'out.log'), 'utf8'), /\{"n":4\}\n$/, 'logger.flush() writes at once');
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes as it goes within a turn that logs a great deal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-dest-'));
    const file = await open(join(dir, 'out.log'), 'w');
    try {
      const dest = new TurnBatchedDestination(file.fd);
      const line = `{"pad":"${'x'.repeat(90)}"}\n`;
      for (let i = 0; i < 2000; i++) dest.write(line);
      const within = readFileSync(join(dir, 'out.log'), 'utf8').length;
      assert.ok(within >= 64 * 1024 && within < 2000 * line.length, `${within} bytes written within the turn`);
      await turn();
      assert.equal((await readFile(join(dir, 'out.log'), 'utf8')).length, 2000 * line.length);
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps what a turn cut short by process.exit() logged: a service's last words reach stdout", async () => {
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
});
