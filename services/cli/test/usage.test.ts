// The entry point: help on every command, the exit codes (0 done, 1 failed, 2 usage), --json errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, REPO_ROOT, startRedis } from '@auphonic-bridge/testing';
import { bridge, errorOf, printed } from './helpers.ts';

const COMMANDS = ['webhook set', 'webhook show', 'webhook delete', 'replay', 'status', 'connections list'];
const UUID = 'UsageXnXeAiHoB8U4uFJQS';

describe('pnpm bridge: the entry point', () => {
  it('lists every command with --help (and with help), exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = await bridge(args);
      assert.equal(run.code, 0, run.stderr);
      for (const c of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${c} `, 'm'), `${c} in the list`);
      assert.equal(run.stderr, '');
    }
  });

  for (const command of COMMANDS) {
    it(`${command} --help: its usage, options and exit codes, exit 0`, async () => {
      const run = await bridge([...command.split(' '), '--help']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^usage: pnpm bridge ${command}`));
      assert.match(run.stdout, /--json/);
      assert.match(run.stdout, /Exit codes: 0 done, 1 failed, 2 usage/);
      if (command === 'replay') assert.deepEqual(await bridge(['help', 'replay']), run, 'help <command> is <command> --help');
    });
  }

  it('webhook --help lists the webhook commands only', async () => {
    const run = await bridge(['webhook', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /webhook set/);
    assert.doesNotMatch(run.stdout, /connections list/);
  });

  // The last element: also run with --json (a few cases stand for all).
  const usageErrors: Array<[string, string[], RegExp, boolean?]> = [
    ['no command', [], /the command comes first/, true],
    ['an unknown command', ['bogus'], /unknown command "bogus"/],
    ['a group without its command', ['webhook'], /which one/],
    ['an unknown option', ['replay', UUID, '--bogus'], /Unknown option '--bogus'/, true],
    ['a missing argument', ['replay'], /missing UUID/],
    ['one argument too many', ['status', UUID, 'again'], /unexpected argument "again"/],
    ['an option without its value', ['webhook', 'show', '--preset'], /argument missing/],
    [
      'an option whose value is forgotten before the next',
      ['replay', UUID, '--connection', '--force'],
      /'--connection' argument is ambiguous/,
    ],
    ['a production uuid that is not one', ['replay', '../../etc/passwd'], /UUID: not a production uuid/],
    ['a connection id that is not one', ['status', UUID, '--connection', 'x/y'], /--connection: not a connection id/],
    [
      'both --preset and --production',
      ['webhook', 'set', '--preset', UUID, '--production', UUID],
      /either --preset UUID or --production UUID/,
      true,
    ],
    ['neither --preset nor --production', ['webhook', 'delete'], /either --preset UUID or --production UUID/],
    ['a preset uuid that is not one', ['webhook', 'show', '--preset', 'short'], /--preset: not a preset uuid/],
  ];
  for (const [what, args, message, alsoJson] of usageErrors) {
    it(`exits 2 on ${what}, saying why and how it is used`, async () => {
      const run = await bridge(args);
      assert.equal(run.code, 2, printed(run));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^error \(ERR_USAGE\): /);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /usage: pnpm bridge/);
      if (!alsoJson) return;
      const json = await bridge([...args, '--json']);
      assert.equal(json.code, 2);
      assert.equal(json.stdout, '');
      assert.equal(errorOf(json).error, 'ERR_USAGE');
    });
  }

  it('exits 1 naming every missing setting, and never echoes a secret', async () => {
    const run = await bridge(['webhook', 'show', '--preset', UUID, '--json'], { WEBHOOK_SECRET: 'has/a/slash-0123456789' });
    assert.equal(run.code, 1);
    const { error, message } = errorOf(run);
    assert.equal(error, 'ERR_CONFIG');
    for (const name of ['AUPHONIC_API_KEY', 'PUBLIC_URL', 'WEBHOOK_SECRET']) assert.match(message, new RegExp(`${name}: `));
    assert.ok(!printed(run).includes('has/a/slash'));
  });

  it('exits 1 when Redis cannot be reached, without showing its password', async () => {
    const port = await freePort();
    const run = await bridge(['replay', UUID], { REDIS_URL: `redis://:hunter2-password@127.0.0.1:${port}` });
    assert.equal(run.code, 1, printed(run));
    assert.match(run.stderr, /ERR_REDIS_UNAVAILABLE/);
    assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${port} \\(REDIS_URL\\)`));
    assert.ok(!printed(run).includes('hunter2'));
  });

  it('says Redis refused the credentials (not that it cannot be reached) when the password is wrong, without showing it', async () => {
    const redis = await startRedis();
    try {
      // A user and password Redis does not know: AUTH answers WRONGPASS.
      const run = await bridge(['replay', UUID], { REDIS_URL: `redis://nobody:hunter2-password@127.0.0.1:${redis.port}` });
      assert.equal(run.code, 1, printed(run));
      assert.match(run.stderr, /refused the credentials \(WRONGPASS\): check REDIS_PASSWORD/);
      assert.ok(!printed(run).includes('hunter2'));
    } finally {
      await redis.close();
    }
  });

  it('runs as the root script: `pnpm bridge --help` exits 0, `pnpm bridge bogus` exits 2', async () => {
    const pnpm = (args: string[]) =>
      promisify(execFile)('pnpm', ['--silent', 'bridge', ...args], { cwd: REPO_ROOT }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
      );
    const help = await pnpm(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: pnpm bridge <command>/);
    assert.equal((await pnpm(['bogus'])).code, 2);
  });
});
