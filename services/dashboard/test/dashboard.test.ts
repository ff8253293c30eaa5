import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@auphonic-bridge/runtime';
import { LogCapture, spawnService, startRedis, type TestRedis } from '@auphonic-bridge/testing';
import { readConfig } from '../src/config.ts';
import { DashboardService } from '../src/service.ts';

const USER = 'ops';
const PASSWORD = 'correct horse battery';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** A dashboard on a free port over this Redis, with the test's credentials. */
const configFor = (redis: TestRedis) =>
  readConfig({ REDIS_URL: redis.url.toString(), PORT: '0', HOST: '127.0.0.1', DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD });

describe('dashboard', () => {
  let redis: TestRedis;
  let dashboard: DashboardService;
  before(async () => {
    redis = await startRedis();
    const config = configFor(redis);
    dashboard = DashboardService.create(config, createLogger({ service: 'dashboard', level: 'warn', destination: new LogCapture() }));
    await dashboard.start();
  });
  after(async () => {
    await dashboard.destroy();
    await redis.close();
  });

  it('refuses requests without the right credentials', async () => {
    for (const headers of [{}, { authorization: basic(USER, 'wrong') }, { authorization: basic('root', PASSWORD) }]) {
      for (const path of ['/', '/api/queues']) {
        const res = await fetch(`${dashboard.url}${path}`, { headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
      }
    }
  });

  it('shows the queues, read-only, with credentials', async () => {
    const headers = { authorization: basic(USER, PASSWORD) };
    const page = await fetch(`${dashboard.url}/`, { headers });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const api = (await (await fetch(`${dashboard.url}/api/queues`, { headers })).json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean }>;
    };
    assert.deepEqual(
      api.queues.map((q) => [q.name, q.readOnlyMode]),
      [
        ['productions', true],
        ['reconcile', true],
        ['notifications', true],
      ],
    );
  });

  it('answers health without credentials', async () => {
    assert.equal((await fetch(`${dashboard.url}/livez`)).status, 200);
    assert.equal((await fetch(`${dashboard.url}/healthz`)).status, 200);
  });

  it('refuses to start without credentials unless explicitly opened', async () => {
    const refused = spawnService('dashboard', { REDIS_URL: redis.url.toString() });
    assert.equal(await refused.exited, 78);
    assert.match(refused.output(), /DASHBOARD_USER: is required/);
    assert.match(refused.output(), /DASHBOARD_PASSWORD: is required/);
    assert.equal(readConfig({ DASHBOARD_OPEN: 'true' }).credentials, null);
  });
});

describe('dashboard start', () => {
  it('gives Redis a moment: started while Redis comes up, it is ready once start() resolves', async () => {
    const redis = await startRedis();
    await redis.stop();
    const config = configFor(redis);
    const dashboard = DashboardService.create(config, createLogger({ service: 'dashboard', level: 'silent' }));
    try {
      const starting = dashboard.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redis.restart();
      await starting;
      assert.equal((await fetch(`${dashboard.url}/healthz`)).status, 200);
    } finally {
      await dashboard.destroy();
      await redis.close();
    }
  });
});
