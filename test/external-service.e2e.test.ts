// End to end as an Auphonic External Service: the host's backend, a user's
// browser, Auphonic (the simulator), the ingress and a worker, on loopback.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@auphonic-bridge/runtime';
import { AuphonicSimulator, pseudoRandomBytes, type SimulatedUser, sendServiceWebhook } from '@auphonic-bridge/simulator';
import { Browser, freePort, LogCapture, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { readConfig as ingressConfig } from '../services/ingress/src/config.ts';
import { IngressService } from '../services/ingress/src/service.ts';
import { readConfig as workerConfig } from '../services/worker/src/config.ts';
import { WorkerService } from '../services/worker/src/service.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const CLIENT_ID = 'bridge-client-id';
const CLIENT_SECRET = 'client-secret-of-the-oauth-app';
const ENCRYPTION_KEY = Buffer.alloc(32, 42).toString('base64');

describe('External Service, end to end', () => {
  let redis: TestRedis;
  let sim: AuphonicSimulator;
  let ingress: IngressService;
  let worker: WorkerService;
  let storageDir: string;
  let publicUrl: string;
  let user: SimulatedUser;
  const logs = new LogCapture();
  const admin = (path: string, body?: unknown) =>
    fetch(`${publicUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    redis = await startRedis();
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    sim = await AuphonicSimulator.start({
      apiKey: 'unused-account-key',
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${publicUrl}/oauth/callback`] },
    });
    user = sim.addUser({ username: 'podcaster', authorizing: true });
    storageDir = await mkdtemp(join(tmpdir(), 'bridge-e2e-'));
    const shared = { REDIS_URL: redis.url.toString(), AUPHONIC_BASE_URL: sim.baseUrl.origin, ENCRYPTION_KEY, LOG_LEVEL: 'debug' };
    ingress = IngressService.create(
      ingressConfig({
        ...shared,
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        AUPHONIC_CLIENT_ID: CLIENT_ID,
        AUPHONIC_CLIENT_SECRET: CLIENT_SECRET,
        PUBLIC_URL: publicUrl,
        ADMIN_TOKEN: ADMIN,
        RESULT_WAIT_MS: '20000',
        PUBLIC_FILES_URL: 'https://cdn.example/media',
        RESULT_PAGE_URL_TEMPLATE: 'https://host.example/shows/{custom_data.show}/episodes/{uuid}',
      }),
      createLogger({ service: 'ingress', level: 'debug', destination: logs }),
    );
    await ingress.start();
    worker = await WorkerService.create(
      workerConfig({
        ...shared,
        STORAGE_DIR: storageDir,
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        RETRY_BASE_DELAY_MS: '20',
        RETRY_MAX_DELAY_MS: '100',
      }),
      createLogger({ service: 'worker', level: 'debug', destination: logs }),
    );
    await worker.start();
  });
  after(async () => {
    await worker.destroy();
    await ingress.destroy();
    await sim.close();
    await redis.close();
    await rm(storageDir, { recursive: true, force: true });
  });

  let connectionId: string;
  let serviceUuid: string;

  it('connects a user: link, browser redirects, callback, token exchange, service registration', async () => {
    const created = await admin('/api/connections', {
      display_name: 'My Host',
      custom_data: { show: 'show-1' },
      return_url: 'https://host.example/done',
    });
    assert.equal(created.status, 201);
    const { id, authorize_url } = (await created.json()) as { id: string; authorize_url: string };
    connectionId = id;

    const browser = new Browser();
    const end = await browser.follow(authorize_url, 'https://host.example/');
    assert.equal(end.url, `https://host.example/done?connection=${id}&status=connected`);
    const cookie = browser.cookies.get(publicUrl) ?? '';
    assert.match(cookie, /^auphonic_bridge_oauth=/);

    const [service, ...others] = sim.services(user.userId);
    assert.equal(others.length, 0);
    assert.equal(service?.display_name, 'My Host');
    assert.equal(service?.webhook_url, `${publicUrl}/webhooks/service/${id}`);
    assert.deepEqual(service?.custom_data, { show: 'show-1' });
    serviceUuid = service?.uuid ?? '';

    const listed = (await (await admin(`/api/connections/${id}`)).json()) as Record<string, unknown>;
    assert.equal(listed.status, 'connected');
    assert.deepEqual(listed.auphonic_user, { user_id: user.userId, username: 'podcaster' });
    assert.ok(!JSON.stringify(listed).includes(sim.accounts.tokensOf(user.userId)[0] ?? 'none'));
  });

  it('takes the signed webhook, stores the files under the connection, and answers result links', async () => {
    const mp3 = pseudoRandomBytes(200_000, 5);
    const p = await sim.addProduction({
      owner: user.userId,
      service: serviceUuid,
      files: [
        { filename: 'ep1.mp3', content: mp3 },
        { filename: 'ep1.m4a', content: pseudoRandomBytes(1000, 6) },
      ],
    });
    const delivery = await sim.completeProduction(p.uuid);
    assert.equal(delivery.ok, true, JSON.stringify(delivery));
    const [attempt] = delivery.attempts;
    assert.equal(attempt?.format, 'jwt');
    assert.equal(attempt?.status, 200);
    assert.deepEqual(JSON.parse(attempt?.body ?? '{}'), {
      result_page_url: `https://host.example/shows/show-1/episodes/${p.uuid}`,
      result_file_url: `https://cdn.example/media/connections/${connectionId}/${p.uuid}/ep1.mp3`,
    });
    const dir = join(storageDir, 'connections', connectionId, p.uuid);
    assert.deepEqual(await readFile(join(dir, 'ep1.mp3')), mp3);
    const record = JSON.parse(await readFile(join(dir, 'auphonic-production.json'), 'utf8'));
    assert.deepEqual(record.bridge.customData, { show: 'show-1' });
    assert.deepEqual(record.bridge.owner, { kind: 'connection', id: connectionId });

    // Auphonic delivers the same JWT again: nothing is downloaded twice.
    const again = await sendServiceWebhook(
      `${publicUrl}/webhooks/service/${connectionId}`,
      { uuid: p.uuid, custom_data: { show: 'show-1' } },
      CLIENT_SECRET,
    );
    assert.equal(again.ok, true);
    assert.equal(sim.downloadsStarted(p.uuid, 'ep1.mp3'), 1);
  });

  it('registers a second display_name for the same user, and updates rather than duplicates it', async () => {
    const second = await admin(`/api/connections/${connectionId}/services`, {
      display_name: 'Second Show',
      custom_data: { show: 'show-2' },
    });
    assert.equal(second.status, 201);
    const { id } = (await second.json()) as { id: string };
    assert.notEqual(id, connectionId);
    const again = await admin(`/api/connections/${connectionId}/services`, {
      display_name: 'Second Show',
      custom_data: { show: 'show-2b' },
    });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { id: string }).id, id);
    const services = sim.services(user.userId);
    assert.deepEqual(services.map((s) => s.display_name).sort(), ['My Host', 'Second Show']);
    assert.deepEqual(services.find((s) => s.display_name === 'Second Show')?.custom_data, { show: 'show-2b' });

    // Connecting the same user under the same display_name through the browser again updates too.
    const created = (await (await admin('/api/connections', { display_name: 'My Host', custom_data: { show: 'show-1b' } })).json()) as {
      authorize_url: string;
    };
    const end = await new Browser().follow(created.authorize_url);
    assert.equal(end.res.status, 200);
    assert.equal(sim.services(user.userId).length, 2);
    const connections = ((await (await admin('/api/connections')).json()) as { connections: Array<{ id: string; custom_data: unknown }> })
      .connections;
    assert.equal(connections.length, 2);
    assert.deepEqual(connections.find((c) => c.id === connectionId)?.custom_data, { show: 'show-1b' });
  });

  it('refuses a forged state, a callback from another browser, and a replayed callback', async () => {
    const start = async () => {
      const { authorize_url } = (await (await admin('/api/connections', { display_name: `Flow ${Math.random()}` })).json()) as {
        authorize_url: string;
      };
      const browser = new Browser();
      const { url } = await browser.follow(authorize_url, `${publicUrl}/oauth/callback`);
      return { browser, callback: url };
    };
    const forged = await start();
    const tampered = new URL(forged.callback);
    tampered.searchParams.set('state', 'forged-state');
    assert.equal((await forged.browser.get(tampered.toString())).status, 400);

    const stolen = await start();
    assert.equal((await new Browser().get(stolen.callback)).status, 400, 'another browser has no flow cookie');
    assert.equal((await stolen.browser.get(stolen.callback)).status, 200, 'the browser that started it connects');
    assert.equal((await stolen.browser.get(stolen.callback)).status, 400, 'a replay of the same callback is refused');
  });

  it('works when Auphonic does not echo state: the cookie alone binds the flow', async () => {
    const app = sim.accounts.app;
    assert.ok(app);
    app.echoState = false;
    try {
      const { authorize_url } = (await (await admin('/api/connections', { display_name: 'No State' })).json()) as { authorize_url: string };
      const browser = new Browser();
      const { url } = await browser.follow(authorize_url, `${publicUrl}/oauth/callback`);
      assert.equal(new URL(url).searchParams.get('state'), null);
      assert.equal((await browser.get(url)).status, 200);
    } finally {
      app.echoState = true;
    }
  });

  it('keeps tokens out of Redis in clear text, out of job data and out of logs', async () => {
    const tokens = sim.accounts.tokensOf(user.userId);
    assert.ok(tokens.length > 0);
    const client = new Redis(redis.url.toString());
    try {
      const dump: string[] = [];
      for (const key of await client.keys('*')) {
        const type = await client.type(key);
        if (type === 'string') dump.push(String(await client.get(key)));
        if (type === 'hash') dump.push(JSON.stringify(await client.hgetall(key)));
        if (type === 'list') dump.push(JSON.stringify(await client.lrange(key, 0, -1)));
        if (type === 'zset') dump.push(JSON.stringify(await client.zrange(key, 0, -1)));
        if (type === 'set') dump.push(JSON.stringify(await client.smembers(key)));
        if (type === 'stream') dump.push(JSON.stringify(await client.xrange(key, '-', '+')));
      }
      const everything = dump.join('\n');
      assert.ok(everything.includes(connectionId), 'the dump holds the connections');
      for (const secret of [...tokens, CLIENT_SECRET, ADMIN]) {
        assert.ok(!everything.includes(secret), 'a secret is in Redis in clear text');
        assert.ok(!logs.text.includes(secret), 'a secret is in the logs');
      }
    } finally {
      client.disconnect();
    }
  });

  it('marks the connection for re-authorisation when Auphonic refuses its token, without retry storms', async () => {
    sim.accounts.revokeTokens(user.userId);
    const p = await sim.addProduction({
      owner: user.userId,
      service: serviceUuid,
      files: [{ filename: 'x.mp3', content: pseudoRandomBytes(100, 1) }],
    });
    await sim.completeProduction(p.uuid);
    const status = async () =>
      ((await (await admin(`/api/connections/${connectionId}`)).json()) as { status: string; problem: string }).status;
    await waitFor(async () => (await status()) === 'needs_reauth', 'the connection to need re-authorisation');
    const calls = () => sim.requests.filter((r) => r.origin === 'api' && r.path.startsWith('/api/production/')).length;
    const before = calls();
    const q = await sim.addProduction({
      owner: user.userId,
      service: serviceUuid,
      files: [{ filename: 'y.mp3', content: pseudoRandomBytes(100, 2) }],
    });
    await sim.completeProduction(q.uuid);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls(), before, 'no call to Auphonic with a token it refused');
    assert.match(logs.text, /needs the user to authorise again/);
  });
});
