// QUEUE_PREFIX: two bridges on one Redis, each with its own prefix, never see each other's jobs or keys.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator } from '@auphonic-bridge/simulator';
import { redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import { readConfig as ingressConfig } from '../services/ingress/src/config.ts';
import { IngressService } from '../services/ingress/src/service.ts';
import { readConfig as workerConfig } from '../services/worker/src/config.ts';
import { WorkerService } from '../services/worker/src/service.ts';

const API_KEY = 'prefix-test-api-key-0123';
const SECRET = 'prefix-test-secret-0123456789';

describe('two bridges on one Redis (QUEUE_PREFIX)', () => {
  let redis: TestRedisSpace;
  let sim: AuphonicSimulator;
  const bridges: Array<{ ingress: IngressService; worker: WorkerService; dir: string }> = [];
  before(async () => {
    redis = await redisSpace();
    sim = await AuphonicSimulator.start({ apiKey: API_KEY });
    for (const prefix of ['{bridge-a}', '{bridge-b}']) {
      const env = {
        REDIS_URL: redis.url.toString(),
        QUEUE_PREFIX: prefix,
        WEBHOOK_SECRET: SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        AUPHONIC_BASE_URL: sim.baseUrl.origin,
        AUPHONIC_API_KEY: API_KEY,
        RECONCILE_INTERVAL_MS: '0',
        LOG_LEVEL: 'silent',
      };
      const dir = await mkdtemp(join(tmpdir(), 'bridge-prefix-'));
      const logger = createLogger({ service: 'test', level: 'silent' });
      const ingress = IngressService.create(ingressConfig(env), logger);
      const worker = await WorkerService.create(workerConfig({ ...env, STORAGE_DIR: dir }), logger);
      await ingress.start();
      await worker.start();
      bridges.push({ ingress, worker, dir });
    }
  });
  after(async () => {
    for (const b of bridges) {
      await b.ingress.destroy();
      await b.worker.destroy();
      await rm(b.dir, { recursive: true, force: true });
    }
    await sim.close();
    await redis.close();
  });

  it("stores each bridge's productions with that bridge only", async () => {
    const [a, b] = bridges;
    if (!a || !b) throw new Error('two bridges');
    const pa = await sim.addProduction({ files: [{ filename: 'a.mp3', content: Buffer.from('for a') }] });
    const pb = await sim.addProduction({ files: [{ filename: 'b.mp3', content: Buffer.from('for b') }] });
    const post = (bridge: typeof a, uuid: string) =>
      fetch(`${bridge.ingress.url}/webhooks/auphonic/${SECRET}`, { method: 'POST', body: new URLSearchParams({ uuid, status: '3' }) });
    assert.equal((await post(a, pa.uuid)).status, 200);
    assert.equal((await post(b, pb.uuid)).status, 200);
    const stored = async (bridge: typeof a) => (await readdir(join(bridge.dir, 'account')).catch((): string[] => [])).sort();
    await waitFor(async () => (await stored(a)).length === 1 && (await stored(b)).length === 1, 'both productions stored');
    // Time for a wrong worker to have taken one, were the queues shared.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await stored(a), [pa.uuid]);
    assert.deepEqual(await stored(b), [pb.uuid]);
  });
});
