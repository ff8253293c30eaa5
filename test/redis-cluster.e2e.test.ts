// The whole bridge on a Redis Cluster of three masters (REDIS_CLUSTER_NODES, a hash-tagged
// QUEUE_PREFIX): the ingress takes production and External Service webhooks, workers store
// the productions and tell the host's system (the notifications queue), the reconciler finds one
// whose webhook never came, the dashboard shows the queues, and every key the bridge wrote sits in the one slot of its hash tag (else a MULTI,
// an EVAL or an MGET across slots would have failed with CROSSSLOT).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator, pseudoRandomBytes, type SimulatedUser } from '@auphonic-bridge/simulator';
import { Browser, freePort, LogCapture, startRedisCluster, type TestRedisCluster, waitFor } from '@auphonic-bridge/testing';
import { Webhook } from 'standardwebhooks';
import { readConfig as dashboardConfig } from '../services/dashboard/src/config.ts';
import { DashboardService } from '../services/dashboard/src/service.ts';
import { readConfig as ingressConfig } from '../services/ingress/src/config.ts';
import { IngressService } from '../services/ingress/src/service.ts';
import { readConfig as workerConfig } from '../services/worker/src/config.ts';
import { WorkerService } from '../services/worker/src/service.ts';

const PREFIX = '{bridge}';
const SECRET = 'cluster-secret-0123456789';
const API_KEY = 'cluster-api-key-0123';
const ADMIN = 'admin-token-0123456789abcdefghij';
const CLIENT_ID = 'bridge-client-id';
const CLIENT_SECRET = 'client-secret-of-the-oauth-app';
const NOTIFY_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const DASHBOARD = { DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'correct horse battery' };

describe('the bridge on a Redis Cluster (three masters)', () => {
  let cluster: TestRedisCluster;
  let sim: AuphonicSimulator;
  let user: SimulatedUser;
  let ingress: IngressService;
  let dashboard: DashboardService;
  const workers: WorkerService[] = [];
  let storageDir: string;
  let publicUrl: string;
  let workerEnv: Record<string, string>;
  let host: Server;
  const events: Array<{ type: string; data: { uuid: string } }> = [];
  const logs = new LogCapture();
  const logger = createLogger({ service: 'test', level: 'info', destination: logs });
  const stored = (path: string) => readFile(join(storageDir, path)).catch(() => null);
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${publicUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    sim = await AuphonicSimulator.start({
      apiKey: API_KEY,
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${publicUrl}/oauth/callback`] },
    });
    user = sim.addUser({ username: 'podcaster', authorizing: true });
    storageDir = await mkdtemp(join(tmpdir(), 'bridge-cluster-'));
    // The host's receiver: keeps each event that verifies with the reference library.
    host = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        events.push(new Webhook(NOTIFY_SECRET).verify(Buffer.concat(chunks).toString('utf8'), headers) as (typeof events)[number]);
        res.writeHead(204).end();
      });
    });
    host.listen(0, '127.0.0.1');
    await once(host, 'listening');
    const shared = {
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_PASSWORD: cluster.password,
      QUEUE_PREFIX: PREFIX,
      AUPHONIC_BASE_URL: sim.baseUrl.origin,
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      PUBLIC_URL: publicUrl,
      WEBHOOK_SECRET: SECRET,
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    ingress = IngressService.create(
      ingressConfig({
        ...shared,
        PORT: String(port),
        AUPHONIC_CLIENT_ID: CLIENT_ID,
        AUPHONIC_CLIENT_SECRET: CLIENT_SECRET,
        ADMIN_TOKEN: ADMIN,
        RESULT_WAIT_MS: '20000',
        PUBLIC_FILES_URL: 'https://cdn.example/media',
      }),
      logger,
    );
    await ingress.start();
    // No reconciler rounds yet: its test starts a worker that schedules them.
    workerEnv = {
      ...shared,
      AUPHONIC_API_KEY: API_KEY,
      STORAGE_DIR: storageDir,
      RETRY_BASE_DELAY_MS: '20',
      RECONCILE_INTERVAL_MS: '0',
      NOTIFY_URL: `http://127.0.0.1:${(host.address() as { port: number }).port}/hooks/bridge`,
      NOTIFY_SECRET,
      NOTIFY_ALLOW_PRIVATE: 'true',
    };
    workers.push(await WorkerService.create(workerConfig(workerEnv), logger));
    await workers[0]?.start();
    dashboard = DashboardService.create(dashboardConfig({ ...shared, ...DASHBOARD, PORT: '0' }), logger);
    await dashboard.start();
  });
  after(async () => {
    for (const w of workers) await w.destroy();
    await ingress?.destroy();
    await dashboard?.destroy();
    await sim?.close();
    host?.close();
    await cluster?.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it('is ready: every service reaches the cluster, and the password is in no log line', async () => {
    assert.equal((await fetch(`${publicUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${workers[0]?.metricsPort}/healthz`)).status, 200);
    assert.equal((await fetch(`${dashboard.url}/healthz`)).status, 200);
    assert.ok(!logs.text.includes(cluster.password));
  });

  it('takes a production webhook, a worker stores the production and tells the host', async () => {
    const mp3 = pseudoRandomBytes(50_000, 1);
    // Running at first: only its webhook (not a reconciler round) can bring it in.
    const p = await sim.addProduction({
      status: 4,
      webhook: `${publicUrl}/webhooks/auphonic/${SECRET}`,
      files: [{ filename: 'a.mp3', content: mp3 }],
    });
    const delivery = await sim.completeProduction(p.uuid);
    assert.equal(delivery.attempts[0]?.status, 200, JSON.stringify(delivery));
    assert.deepEqual(await waitFor(() => stored(`account/${p.uuid}/a.mp3`), 'the production to be stored'), mp3);
    const event = await waitFor(() => events.find((e) => e.data.uuid === p.uuid), "the host's event");
    assert.equal(event.type, 'production.stored');
  });

  it('connects a user and takes their signed webhook, answering the stored file (QueueEvents on the cluster)', async () => {
    const created = await admin('POST', '/api/connections', { display_name: 'My Host', return_url: 'https://host.example/done' });
    assert.equal(created.status, 201);
    const { id, authorize_url } = (await created.json()) as { id: string; authorize_url: string };
    const end = await new Browser().follow(authorize_url, 'https://host.example/');
    assert.equal(end.url, `https://host.example/done?connection=${id}&status=connected`);
    const [service] = sim.services(user.userId);
    const mp3 = pseudoRandomBytes(20_000, 2);
    const p = await sim.addProduction({ owner: user.userId, service: service?.uuid, files: [{ filename: 'ep.mp3', content: mp3 }] });
    const delivery = await sim.completeProduction(p.uuid);
    const [attempt] = delivery.attempts;
    assert.equal(attempt?.status, 200, JSON.stringify(delivery));
    assert.equal(JSON.parse(attempt?.body ?? '{}').result_file_url, `https://cdn.example/media/connections/${id}/${p.uuid}/ep.mp3`);
    assert.deepEqual(await stored(`connections/${id}/${p.uuid}/ep.mp3`), mp3);

    // The store's MULTI and MGET: another connection listed beside it, then removed.
    const other = (await (await admin('POST', '/api/connections', { display_name: 'Other' })).json()) as { id: string };
    const listed = (await (await admin('GET', '/api/connections')).json()) as { connections: Array<{ id: string }> };
    assert.deepEqual(listed.connections.map((c) => c.id).sort(), [id, other.id].sort());
    assert.equal((await admin('DELETE', `/api/connections/${other.id}`)).status, 204);
    assert.equal((await admin('GET', `/api/connections/${other.id}`)).status, 404);
  });

  it('finds a production whose webhook never came (the reconciler)', async () => {
    const content = pseudoRandomBytes(10_000, 3);
    const missed = await sim.addProduction({
      webhook: `${publicUrl}/webhooks/auphonic/${SECRET}`,
      files: [{ filename: 'm.mp3', content }],
    });
    const worker = await WorkerService.create(workerConfig({ ...workerEnv, RECONCILE_INTERVAL_MS: '1000' }), logger);
    workers.push(worker);
    await worker.start();
    assert.deepEqual(await waitFor(() => stored(`account/${missed.uuid}/m.mp3`), 'the missed production to be stored'), content);
  });

  it('shows its queues in the dashboard', async () => {
    const headers = {
      authorization: `Basic ${Buffer.from(`${DASHBOARD.DASHBOARD_USER}:${DASHBOARD.DASHBOARD_PASSWORD}`).toString('base64')}`,
    };
    type Queues = { queues: Array<{ name: string; counts: Record<string, number> }> };
    const queues = async () => ((await (await fetch(`${dashboard.url}/api/queues`, { headers })).json()) as Queues).queues;
    assert.deepEqual((await queues()).map((q) => q.name).sort(), ['notifications', 'productions', 'reconcile']);
    // A file is in place a moment before its job is marked completed.
    await waitFor(
      async () => (await queues()).find((q) => q.name === 'productions')?.counts.completed === 3,
      'three completed productions',
    );
    assert.equal((await fetch(`${dashboard.url}/api/redis/stats`, { headers })).status, 200);
  });

  it('keeps every key it wrote in the slot of its hash tag, on one master', async () => {
    const [probe] = cluster.masters();
    const slot = (key: string) => probe?.cluster('KEYSLOT', key) as Promise<number>;
    const tagSlot = await slot(PREFIX);
    const perMaster = await Promise.all(cluster.masters().map((m) => m.keys('*')));
    const keys = perMaster.flat();
    process.stdout.write(`# ${keys.length} keys, per master: ${perMaster.map((k) => k.length).join(', ')}; slot ${tagSlot}\n`);
    assert.equal(perMaster.filter((k) => k.length > 0).length, 1);
    for (const key of keys) {
      assert.ok(key.startsWith(`${PREFIX}:`), key);
      assert.equal(await slot(key), tagSlot, key);
    }
    for (const part of [
      ':productions:',
      ':reconcile:',
      ':notifications:',
      ':bridge:connection:',
      ':bridge:oauth-token:',
      ':bridge:rate-limit:',
      ':bridge:reconcile:since:',
    ]) {
      assert.ok(
        keys.some((k) => k.includes(part)),
        `a key with ${part}`,
      );
    }
  });
});
