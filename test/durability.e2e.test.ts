// What a 2xx is worth: a webhook the ingress acknowledged survives a Redis process crash
// (kill -9 of an append-only Redis, appendfsync always, as docker-compose.yml and the
// Kubernetes example run it) under a stream of webhooks. With appendfsync everysec, Redis
// answers while it postpones writing the AOF when an fsync lags (up to 2 s): that loses
// acknowledged writes even in a process crash, and did here under load (8 of 11,616).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProductionQueue } from '@auphonic-bridge/queue';
import { randomUuid } from '@auphonic-bridge/simulator';
import { freePort, type SpawnedService, spawnService, startRedis, streamWebhooks, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';

const SECRET = 'durability-secret-0123456789';

describe('acknowledged webhooks across a Redis crash (kill -9, appendonly yes, appendfsync always)', () => {
  let redis: TestRedis;
  let ingress: SpawnedService;
  let port: number;
  before(async () => {
    redis = await startRedis({ appendfsync: 'always' });
    port = await freePort();
    ingress = spawnService('ingress', {
      REDIS_URL: redis.url.toString(),
      WEBHOOK_SECRET: SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ENQUEUE_TIMEOUT_MS: '500',
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'the ingress');
  });
  after(async () => {
    await ingress.stop();
    await redis.close();
  });

  it('loses none of them', async () => {
    const stream = streamWebhooks({ port, path: `/webhooks/auphonic/${SECRET}`, newUuid: randomUuid });
    const { acknowledged, answers } = stream;
    await new Promise((r) => setTimeout(r, 1500));
    const beforeCrash = acknowledged.size;
    await redis.stop(); // SIGKILL, mid-stream
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();
    await new Promise((r) => setTimeout(r, 1500));
    await stream.stop();

    const connection = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
    const queue = createProductionQueue(connection);
    try {
      const queued = new Set((await queue.getJobs(['waiting'], 0, -1)).map((j) => j.data.uuid));
      const lost = [...acknowledged].filter((uuid) => !queued.has(uuid));
      process.stdout.write(
        `# ${acknowledged.size} acknowledged (${beforeCrash} before the kill), answers ${JSON.stringify(Object.fromEntries(answers))}, ${lost.length} lost\n`,
      );
      assert.ok(beforeCrash > 100, 'a stream was under way when Redis died');
      assert.ok((answers.get(503) ?? 0) > 0, 'Redis was down for a while: 503, so that Auphonic tries again');
      assert.ok(acknowledged.size > beforeCrash, 'webhooks were acknowledged again after the restart');
      assert.deepEqual(lost, []);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
