// test/setup/exit-watchdog.ts, as the test scripts use it: a nested `node --test` on fixture files.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const WATCHDOG = fileURLToPath(new URL('./setup/exit-watchdog.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function nodeTest(cwd: string, files: string[]): Promise<Run> {
  // The nested runner must not think it is one of ours.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', '--import', WATCHDOG, ...files],
      { cwd, env: { ...env, TEST_EXIT_GRACE_MS: '1500' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        // Killed (the timeout) is no exit code: -1, never a pass.
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

const count = (run: Run, what: string) => Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(run.stdout)?.[1] ?? Number.NaN);

describe('the test run: a file whose tests are done ends, and none of its results is lost', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exit-watchdog-'));
    await writeFile(
      join(dir, 'holds.test.mjs'),
      [
        "import { test } from 'node:test';",
        "test('leaves a timer holding the process', () => { setInterval(() => {}, 1000); });",
        "test('fails', () => { throw new Error('as it should'); });",
        "test('passes', () => {});",
      ].join('\n'),
    );
    const many = Array.from({ length: 2000 }, (_, i) => `test('t${i}', () => {});`);
    await writeFile(join(dir, 'many.test.mjs'), ["import { test } from 'node:test';", ...many].join('\n'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('ends a file held open by a handle once the grace has passed, with its results and its failure', async () => {
    const run = await nodeTest(dir, ['holds.test.mjs']);
    assert.equal(count(run, 'tests'), 3, run.stdout);
    assert.equal(count(run, 'fail'), 1);
    assert.equal(run.code, 1, 'a failed test still fails the run');
    // The runner passes a file's stderr on in its report.
    assert.match(run.stdout, /exit-watchdog: tests done/);
    assert.ok(run.ms < 30_000, `ended after ${run.ms} ms`);
  });

  it('reports every test of a file of 2000, which --test-force-exit does not always (nodejs/node#64833)', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await nodeTest(dir, ['many.test.mjs']);
      assert.equal(count(run, 'tests'), 2000, `run ${i + 1}`);
      assert.equal(run.code, 0);
      assert.doesNotMatch(run.stdout, /exit-watchdog/, 'a file that ends on its own is not ended');
    }
  });
});
