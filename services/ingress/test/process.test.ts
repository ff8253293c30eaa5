import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, spawnService, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { SECRET } from './helpers.ts';

describe('ingress process (pnpm start:ingress)', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.close());

  it('serves /healthz, logs JSON without the secret, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const ingress = spawnService('ingress', {
      REDIS_URL: redis.url.toString(),
      WEBHOOK_SECRET: SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`)).status === 200, 'ingress to be healthy');
    const res = await fetch(`${base}/webhooks/auphonic/${SECRET}`, {
      method: 'POST',
      body: new URLSearchParams({ uuid: 'ShfFXnXeAiHoB8U4uFJQS3', status: '3' }),
    });
    assert.equal(res.status, 200);
    assert.equal(await ingress.stop('SIGTERM'), 0);
    const lines = ingress
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.msg === 'production webhook queued' && l.uuid === 'ShfFXnXeAiHoB8U4uFJQS3'));
    assert.ok(lines.some((l) => l.msg === 'stopped'));
    assert.ok(!ingress.output().includes(SECRET));
  });
});
