// No Docker engine runs here: the Dockerfile is checked as text, and what its
// images hold is proved by test/bundle.test.ts, which builds the same bundles.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, startArgs } from '@auphonic-bridge/testing';

const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** The instructions of one build stage, continuation lines joined. */
function stage(name: string): string[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${name}$`).test(l));
  assert.ok(start >= 0, `stage ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '));
  return lines.slice(start, end < 0 ? undefined : end).filter((l) => l && !l.startsWith('#'));
}

describe('Dockerfile', () => {
  it('builds every image from Node 24 slim, with tini as PID 1', () => {
    for (const from of text.match(/^FROM node:\S+/gm) ?? []) assert.equal(from, 'FROM node:24-slim');
    assert.match(stage('runtime').join('\n'), /ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/);
  });

  for (const service of ['ingress', 'worker', 'dashboard']) {
    it(`${service}: its own bundle only, non-root, a HEALTHCHECK, and the command of pnpm start:${service}`, () => {
      const lines = stage(service);
      assert.match(lines[0] ?? '', /^FROM runtime AS/);
      assert.ok(lines.some((l) => l === `COPY --from=build --chown=root:root /bundles/${service} /app`));
      assert.ok(lines.some((l) => l === 'USER node'));
      assert.ok(lines.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('/healthz')));
      const cmd = lines.find((l) => l.startsWith('CMD '));
      assert.deepEqual(JSON.parse(cmd?.slice(4) ?? '[]'), ['node', ...startArgs(service)]);
    });
  }

  it('ingress: exposes its public port and its metrics port (METRICS_PORT, 9464)', () => {
    assert.ok(stage('ingress').includes('EXPOSE 3000 9464'));
  });

  it('bakes in no settings that hold secrets', () => {
    for (const name of [
      'WEBHOOK_SECRET',
      'AUPHONIC_API_KEY',
      'AUPHONIC_CLIENT_SECRET',
      'ADMIN_TOKEN',
      'ENCRYPTION_KEY',
      'DASHBOARD_PASSWORD',
      'AWS_SECRET_ACCESS_KEY',
    ]) {
      assert.ok(!new RegExp(`^(ENV|ARG)\\s.*${name}`, 'm').test(text), name);
    }
    assert.match(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'), /^\.env$/m);
  });
});
