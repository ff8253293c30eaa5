// What the images hold, proved outside Docker: each service's pruned bundle
// (scripts/bundle.ts, as the Dockerfile runs it) starts on its own and serves
// its health and metrics endpoints.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  imageCommands,
  REPO_ROOT,
  spawnService,
  startRedis,
  type TestRedis,
  waitFor,
  warmCompileCache,
} from '@auphonic-bridge/testing';

describe('per-service bundles', () => {
  let redis: TestRedis;
  let work: string;
  before(async () => {
    redis = await startRedis();
    work = await mkdtemp(join(tmpdir(), 'bridge-bundles-'));
  });
  after(async () => {
    await redis.close();
    await rm(work, { recursive: true, force: true });
  });

  // As the Dockerfile builds them: the worker's image holds the operator CLI too.
  const IMAGES: Record<string, string> = { ingress: 'ingress', worker: 'worker,cli', dashboard: 'dashboard' };
  const built = new Map<string, string>();
  const bundle = (service: string) => {
    const image = IMAGES[service] ?? service;
    const out = built.get(image) ?? join(work, service);
    if (!built.has(image)) execFileSync(process.execPath, ['scripts/bundle.ts', image, out], { cwd: REPO_ROOT, stdio: 'ignore' });
    built.set(image, out);
    return out;
  };

  // The service's env given its port and its metrics port, the health path (on the port), the metrics path (on the metrics port).
  const cases: Array<[string, (port: number, metricsPort: number) => Record<string, string>, string, string | null]> = [
    [
      'ingress',
      (port, metricsPort) => ({
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        WEBHOOK_SECRET: 'bundle-test-secret-0123',
      }),
      '/healthz',
      '/metrics',
    ],
    [
      'worker',
      (port) => ({
        METRICS_PORT: String(port),
        METRICS_HOST: '127.0.0.1',
        AUPHONIC_API_KEY: 'bundle-test-key',
        STORAGE_DIR: join(work, 'storage'),
      }),
      '/healthz',
      '/metrics',
    ],
    [
      'dashboard',
      (port) => ({ PORT: String(port), HOST: '127.0.0.1', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'bundle-test-password' }),
      '/healthz',
      null,
    ],
  ];

  for (const [service, env, health, metrics] of cases) {
    it(`${service}: holds only its own production dependencies, starts, and serves ${[health, metrics].filter(Boolean).join(' and ')}`, async () => {
      const out = bundle(service);
      assert.ok(!existsSync(join(out, 'node_modules/.pnpm/typescript@7.0.2')), 'no dev dependencies');
      assert.ok(!existsSync(join(out, 'packages/simulator')), 'no test-only packages');
      assert.equal(existsSync(join(out, 'node_modules/.pnpm/node_modules/fastify')), service !== 'worker', 'fastify only where it is used');
      const port = await freePort();
      const metricsPort = service === 'ingress' ? await freePort() : port;
      const proc = spawnService(service, { REDIS_URL: redis.url.toString(), LOG_LEVEL: 'warn', ...env(port, metricsPort) }, { cwd: out });
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}${health}`)).status === 200, `${service} to be healthy`, 20_000);
        if (metrics) {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}${metrics}`)).text();
          assert.match(text, /auphonic_bridge_queue_jobs/);
          assert.match(text, /process_resident_memory_bytes/);
        }
      } finally {
        assert.equal(await proc.stop('SIGTERM'), 0, proc.output());
      }
    });
  }

  const v8Flags = (args: readonly string[]) => args.slice(0, args.indexOf('--import'));

  for (const [service, env, health] of cases) {
    it(`${service}: a compile cache filled as its image fills it spares a new container the TypeScript stripper`, async () => {
      const out = bundle(service);
      const { warm, cmd } = await imageCommands(service);
      // The cache is kept per set of V8 flags: the warm-up must run with the CMD's, which are pnpm start's.
      assert.deepEqual(v8Flags(warm), v8Flags(cmd));
      const startScript = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).scripts[`start:${service}`] as string;
      assert.deepEqual(v8Flags(warm), v8Flags(startScript.split(/\s+/).slice(1)));
      const cache = join(work, `compile-cache-${service}`);
      await warmCompileCache(service, cache, out);
      const probe = join(work, 'stripper-probe.mjs');
      await writeFile(
        probe,
        "process.on('exit', () => process.stderr.write('stripper loaded: ' + process.moduleLoadList.some((m) => m.includes('amaro')) + '\\n'));\n",
      );
      const port = await freePort();
      const proc = spawnService(
        service,
        {
          REDIS_URL: redis.url.toString(),
          LOG_LEVEL: 'warn',
          NODE_COMPILE_CACHE: cache,
          NODE_OPTIONS: `--import ${probe}`,
          ...env(port, await freePort()),
        },
        { cwd: out },
      );
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}${health}`)).status === 200, `${service} to be healthy`, 20_000);
      } finally {
        assert.equal(await proc.stop('SIGTERM'), 0, proc.output());
      }
      assert.match(proc.output(), /stripper loaded: false/);
    });
  }

  it("worker: the operator CLI runs from the worker's bundle (bridge status in the image)", () => {
    const out = bundle('worker');
    const uuid = 'aBcDeFgHiJkLmNoPqRsTuV';
    const run = spawnSync(process.execPath, ['services/cli/src/main.ts', 'status', uuid, '--json'], {
      cwd: out,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, REDIS_URL: redis.url.toString(), STORAGE_DIR: join(work, 'storage') },
    });
    // Exit 1 with its own error: it read Redis and the storage, and knows no such production.
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`ERR_UNKNOWN_PRODUCTION.*${uuid}`));
  });
});
