// The operator's round trip: pnpm bridge webhook set points a production at the running ingress,
// Auphonic (the simulator) calls it when the production is done, the worker stores it, and
// pnpm bridge status and replay --force see and redo it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator, pseudoRandomBytes } from '@auphonic-bridge/simulator';
import { redisSpace, runScript, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import { readConfig as ingressConfig } from '../services/ingress/src/config.ts';
import { IngressService } from '../services/ingress/src/service.ts';
import { readConfig as workerConfig } from '../services/worker/src/config.ts';
import { WorkerService } from '../services/worker/src/service.ts';

const API_KEY = 'cli-e2e-api-key-0123';
const SECRET = 'cli-e2e-secret-0123456789';

describe('pnpm bridge with a running bridge', () => {
  let redis: TestRedisSpace;
  let sim: AuphonicSimulator;
  let dir: string;
  let ingress: IngressService;
  let worker: WorkerService;
  let cli: Record<string, string>;
  before(async () => {
    redis = await redisSpace();
    sim = await AuphonicSimulator.start({ apiKey: API_KEY });
    dir = await mkdtemp(join(tmpdir(), 'bridge-cli-e2e-'));
    const env = {
      REDIS_URL: redis.url.toString(),
      QUEUE_PREFIX: redis.prefix,
      WEBHOOK_SECRET: SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      AUPHONIC_BASE_URL: sim.baseUrl.origin,
      AUPHONIC_API_KEY: API_KEY,
      STORAGE_DIR: dir,
      RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'silent',
    };
    const logger = createLogger({ service: 'test', level: 'silent' });
    ingress = IngressService.create(ingressConfig(env), logger);
    worker = await WorkerService.create(workerConfig(env), logger);
    await ingress.start();
    await worker.start();
    // The CLI runs with the services' environment; PUBLIC_URL is where Auphonic reaches the ingress.
    cli = { ...env, PUBLIC_URL: ingress.url };
  });
  after(async () => {
    await ingress.destroy();
    await worker.destroy();
    await sim.close();
    await redis.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bridge = async (...args: string[]) => {
    const run = await runScript('bridge', args, cli);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(SECRET), 'the secret is never printed');
    return run;
  };
  const status = async (uuid: string) =>
    JSON.parse((await bridge('status', uuid, '--json')).stdout) as {
      job: { state: string; force: boolean } | null;
      record: { outcome: string } | null;
    };

  it('sets the webhook the ingress takes, and the production lands; replay --force fetches it again', async () => {
    const p = await sim.addProduction({ files: [{ filename: 'episode.mp3', content: pseudoRandomBytes(20_000, 9) }] });
    await bridge('webhook', 'set', '--production', p.uuid);
    assert.equal(sim.production(p.uuid).webhook, `${ingress.url}/webhooks/auphonic/${SECRET}`);

    const delivery = await sim.completeProduction(p.uuid);
    assert.equal(delivery.ok, true, JSON.stringify(delivery.attempts));
    await waitFor(async () => (await status(p.uuid)).record?.outcome === 'complete', 'the production stored');

    await bridge('replay', p.uuid, '--force');
    await waitFor(async () => {
      const s = await status(p.uuid);
      return s.job?.force && s.job.state === 'completed';
    }, 'the forced replay to finish');
    assert.equal(sim.downloadsStarted(p.uuid, 'episode.mp3'), 2);
  });
});
