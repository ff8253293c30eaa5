import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, spawnService, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { SECRET } from './helpers.ts';

/** The ingress as operators start it, on this Redis and port (0: any), with more settings. */
const ingressProcess = (redisUrl: URL, port: number | string, env: Record<string, string> = {}) =>
  spawnService('ingress', {
    REDIS_URL: redisUrl.toString(),
    WEBHOOK_SECRET: SECRET,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    ...env,
  });

async function redisVersion(url: URL): Promise<[number, number]> {
  const probe = new Redis(url.toString());
  const [major = 0, minor = 0] = (/redis_version:(\d+)\.(\d+)/.exec(await probe.info('server')) ?? []).slice(1).map(Number);
  probe.disconnect();
  return [major, minor];
}

describe('ingress process (pnpm start:ingress)', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.close());

  it('serves /healthz, logs JSON without the secret, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const ingress = ingressProcess(redis.url, String(port));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${base}/healthz`)).status === 200, 'ingress to be healthy');
      const res = await fetch(`${base}/webhooks/auphonic/${SECRET}`, {
        method: 'POST',
        body: new URLSearchParams({ uuid: 'ShfFXnXeAiHoB8U4uFJQS3', status: '3' }),
      });
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await ingress.stop('SIGTERM'), 0);
    }
    const lines = ingress
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.msg === 'production webhooks queued' && l.webhooks?.[0]?.uuid === 'ShfFXnXeAiHoB8U4uFJQS3'));
    assert.ok(lines.some((l) => l.msg === 'stopped'));
    assert.ok(!ingress.output().includes(SECRET));
  });

  it("says at start that Redis's persistence can lose acknowledged webhooks (the test Redis keeps nothing)", async () => {
    const ingress = ingressProcess(redis.url, '0');
    try {
      await waitFor(() => ingress.output().includes('appendonly no'), 'the warning');
    } finally {
      await ingress.stop('SIGTERM');
    }
  });

  it('with ENQUEUE_WAIT_AOF, takes no webhook before Redis is there to tell its version, however late it comes', async () => {
    const late = await startRedis();
    await late.stop();
    const port = await freePort();
    const ingress = ingressProcess(late.url, String(port), { ENQUEUE_WAIT_AOF: 'true' });
    try {
      // Past untilRedisReady's first 5 s: before the fix it listened (and /healthz said 200 once Redis came).
      await new Promise((r) => setTimeout(r, 6_500));
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'not listening while the version is unknown');
      await late.restart();
      const [major, minor] = await redisVersion(late.url);
      if (major < 7 || (major === 7 && minor < 2)) {
        assert.equal(await Promise.race([ingress.exited, new Promise((r) => setTimeout(r, 40_000, 'still running'))]), 78);
        assert.match(ingress.output(), /ENQUEUE_WAIT_AOF: needs Redis 7\.2 or later/);
      } else {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'the ingress', 40_000);
      }
    } finally {
      await ingress.stop('SIGKILL');
      await late.close();
    }
  });

  it('with ENQUEUE_WAIT_AOF, refuses to start on a Redis older than 7.2 (naming the setting), and answers after WAITAOF on a newer one', async () => {
    const [major, minor] = await redisVersion(redis.url);
    const port = await freePort();
    const ingress = ingressProcess(redis.url, String(port), { ENQUEUE_WAIT_AOF: 'true' });
    if (major < 7 || (major === 7 && minor < 2)) {
      // EX_CONFIG, the reason once, no stack.
      assert.equal(await ingress.exited, 78);
      assert.equal(ingress.output().match(/ENQUEUE_WAIT_AOF: needs Redis 7\.2 or later/g)?.length, 1, ingress.output());
      assert.doesNotMatch(ingress.output(), /"stack"/);
      return;
    }
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'the ingress');
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/auphonic/${SECRET}`, {
        method: 'POST',
        body: new URLSearchParams({ uuid: 'ShfFXnXeAiHoB8U4uFJQS3', status: '3' }),
      });
      // The test Redis keeps no AOF: WAITAOF cannot be satisfied, so the answer is 503.
      assert.equal(res.status, 503);
    } finally {
      await ingress.stop('SIGTERM');
    }
  });
});
