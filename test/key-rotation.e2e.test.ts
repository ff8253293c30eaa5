// Rotating ENCRYPTION_KEY and ADMIN_TOKEN on a running installation: the ingress and
// the workers restart with the new value and the old one as *_PREVIOUS; tokens, links
// and flows made under the old key keep working, and what is opened is sealed anew.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { createProductionQueue } from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator, pseudoRandomBytes, type SimulatedUser } from '@auphonic-bridge/simulator';
import { Browser, freePort, LogCapture, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { readConfig as ingressConfig } from '../services/ingress/src/config.ts';
import { IngressService } from '../services/ingress/src/service.ts';
import { readConfig as workerConfig } from '../services/worker/src/config.ts';
import { WorkerService } from '../services/worker/src/service.ts';

const CLIENT_ID = 'bridge-client-id';
const CLIENT_SECRET = 'client-secret-of-the-oauth-app';
const OLD_KEY = Buffer.alloc(32, 1);
const NEW_KEY = Buffer.alloc(32, 2);
const OLD_ADMIN = 'old-admin-token-0123456789abcdef';
const NEW_ADMIN = 'new-admin-token-0123456789abcdef';

describe('rotating ENCRYPTION_KEY and ADMIN_TOKEN', () => {
  let redis: TestRedis;
  let client: Redis;
  let sim: AuphonicSimulator;
  let user: SimulatedUser;
  let port: number;
  let storageDir: string;
  const logs = new LogCapture();
  const running: Array<{ destroy(): Promise<void> }> = [];

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url.toString());
    port = await freePort();
    sim = await AuphonicSimulator.start({
      apiKey: 'unused-account-key',
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`http://127.0.0.1:${port}/oauth/callback`] },
    });
    user = sim.addUser({ username: 'podcaster', authorizing: true });
    storageDir = await mkdtemp(join(tmpdir(), 'bridge-rotation-'));
  });
  after(async () => {
    for (const s of running.reverse()) await s.destroy();
    client.disconnect();
    await sim.close();
    await redis.close();
    await rm(storageDir, { recursive: true, force: true });
  });

  const publicUrl = () => `http://127.0.0.1:${port}`;
  const keys = (current: Buffer, previous?: Buffer) => ({
    ENCRYPTION_KEY: current.toString('base64'),
    ...(previous ? { ENCRYPTION_KEY_PREVIOUS: previous.toString('base64') } : {}),
  });
  const shared = () => ({ REDIS_URL: redis.url.toString(), AUPHONIC_BASE_URL: sim.baseUrl.origin, LOG_LEVEL: 'debug' });
  const logger = (service: string) => createLogger({ service, level: 'debug', destination: logs });

  const startIngress = async (env: Record<string, string>) => {
    const ingress = IngressService.create(
      ingressConfig({
        ...shared(),
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        AUPHONIC_CLIENT_ID: CLIENT_ID,
        AUPHONIC_CLIENT_SECRET: CLIENT_SECRET,
        PUBLIC_URL: publicUrl(),
        ...env,
      }),
      logger('ingress'),
    );
    await ingress.start();
    return ingress;
  };
  const startWorker = async (env: Record<string, string>) => {
    const worker = await WorkerService.create(
      workerConfig({
        ...shared(),
        STORAGE_DIR: storageDir,
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        RECONCILE_INTERVAL_MS: '0',
        ...env,
      }),
      logger('worker'),
    );
    await worker.start();
    running.push(worker);
    return worker;
  };
  const admin = (token: string, path: string, body?: unknown) =>
    fetch(`${publicUrl()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const newConnection = async (token: string, name: string) =>
    (await (await admin(token, '/api/connections', { display_name: name })).json()) as { id: string; authorize_url: string };

  it('keeps every connection, link and flow working across the rotation, and re-seals the tokens', async () => {
    // Before: the old key and admin token.
    const before = await startIngress({ ...keys(OLD_KEY), ADMIN_TOKEN: OLD_ADMIN });
    const connected = await newConnection(OLD_ADMIN, 'Connected Before');
    assert.equal((await new Browser().follow(connected.authorize_url)).res.status, 200);
    const unused = await newConnection(OLD_ADMIN, 'Link Sent Before');
    // A flow started before the restart: its cookie is signed with the old key.
    const inFlight = await newConnection(OLD_ADMIN, 'Flow Started Before');
    const browser = new Browser();
    const { url: callback } = await browser.follow(inFlight.authorize_url, `${publicUrl()}/oauth/callback`);
    await before.destroy();

    // After: the new key and admin token, the old ones as *_PREVIOUS.
    const rotated = { ...keys(NEW_KEY, OLD_KEY), ADMIN_TOKEN: NEW_ADMIN, ADMIN_TOKEN_PREVIOUS: OLD_ADMIN };
    running.push(await startIngress(rotated));
    const worker = await startWorker(keys(NEW_KEY, OLD_KEY));

    for (const token of [NEW_ADMIN, OLD_ADMIN]) assert.equal((await admin(token, '/api/connections')).status, 200);
    assert.equal((await admin('another-admin-token-0123456789ab', '/api/connections')).status, 401);

    // The worker opens the token sealed with the old key, and seals it with the new one.
    const store = new ConnectionStore(client, new Sealer(NEW_KEY));
    const first = await store.get(connected.id);
    assert.ok(first);
    await assert.rejects(store.accessToken(first), /ERR_DECRYPT|cannot be decrypted/, 'sealed with the old key so far');
    const serviceUuid = sim.services(user.userId).find((s) => s.display_name === 'Connected Before')?.uuid;
    const p = await sim.addProduction({
      owner: user.userId,
      service: serviceUuid,
      files: [{ filename: 'a.mp3', content: pseudoRandomBytes(1000, 3) }],
    });
    assert.equal((await sim.completeProduction(p.uuid)).ok, true);
    const queue = createProductionQueue(client);
    const [job] = await queue.getJobs(['waiting', 'active', 'completed', 'failed']);
    assert.ok(job);
    await waitFor(async () => (await queue.getJobState(job.id as string)) === 'completed', 'the production to be stored');
    assert.equal(typeof (await store.accessToken(first)), 'string', 'opens with the new key alone');

    // A link and a flow cookie signed with the old key.
    assert.equal((await new Browser().follow(unused.authorize_url)).res.status, 200, 'a link signed with the old key');
    assert.equal((await browser.get(callback)).status, 200, 'a flow cookie signed with the old key');
    await worker.destroy();
    running.splice(running.indexOf(worker), 1);

    // A worker with a key that opens nothing fails the job at once, naming the settings.
    await client.set(`bridge:oauth-token:${user.userId}`, new Sealer(Buffer.alloc(32, 7)).seal('x', `bridge:oauth-token:${user.userId}`));
    await startWorker(keys(NEW_KEY, OLD_KEY));
    const q = await sim.addProduction({
      owner: user.userId,
      service: serviceUuid,
      files: [{ filename: 'b.mp3', content: pseudoRandomBytes(1000, 4) }],
    });
    await sim.completeProduction(q.uuid);
    const failed = await waitFor(
      async () => (await queue.getJobs(['failed'])).find((j) => j.data.uuid === q.uuid && j.failedReason),
      'the job to fail',
    );
    assert.match(failed.failedReason, /ERR_DECRYPT/);
    assert.match(failed.failedReason, /ENCRYPTION_KEY_PREVIOUS/);
    assert.equal(failed.attemptsMade, 1, 'not retried');
    await queue.close();
  });
});
