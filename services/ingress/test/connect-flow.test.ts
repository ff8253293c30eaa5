// Connecting a user's Auphonic account: a link connects once, reconnecting is the
// host's explicit action, and a connection never changes its Auphonic user.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AuphonicClient } from '@auphonic-bridge/auphonic';
import { type Connection, ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { createReconcileQueue, QUEUES, RECONCILE_JOB_NAMES, type ReconcileQueue } from '@auphonic-bridge/queue';
import { AuphonicSimulator, type SimulatedUser } from '@auphonic-bridge/simulator';
import { Browser, freePort, startRedis, type TestRedis } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.ts';
import { completeConnection, registerService } from '../src/connect-flow.ts';
import { type IngressFixture, startIngress } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const CLIENT_ID = 'bridge-client-id';
const CLIENT_SECRET = 'client-secret-of-the-oauth-app';
const KEY = Buffer.alloc(32, 9);

describe('connecting an Auphonic account', () => {
  let f: IngressFixture;
  let sim: AuphonicSimulator;
  let publicUrl: string;
  let alice: SimulatedUser;
  let bob: SimulatedUser;
  let redis: Redis;
  let store: ConnectionStore;
  let reconcile: ReconcileQueue;

  before(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    sim = await AuphonicSimulator.start({
      apiKey: 'unused-account-key',
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${publicUrl}/oauth/callback`] },
    });
    alice = sim.addUser({ username: 'alice' });
    bob = sim.addUser({ username: 'bob' });
    f = await startIngress({
      PORT: String(port),
      AUPHONIC_BASE_URL: sim.baseUrl.origin,
      AUPHONIC_CLIENT_ID: CLIENT_ID,
      AUPHONIC_CLIENT_SECRET: CLIENT_SECRET,
      PUBLIC_URL: publicUrl,
      ADMIN_TOKEN: ADMIN,
      ENCRYPTION_KEY: KEY.toString('hex'),
    });
    redis = new Redis(f.redis.url.toString(), { maxRetriesPerRequest: null });
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix });
    reconcile = createReconcileQueue(redis, { prefix: f.redis.prefix });
  });
  after(async () => {
    await reconcile.close();
    redis.disconnect();
    await f.close();
    await sim.close();
  });

  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${publicUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { id: string; authorize_url: string } };
  };
  const create = async (displayName: string) => (await admin('/api/connections', { display_name: displayName })).body;
  /** The browser of whoever is signed in to Auphonic, from the link to the last page. */
  const connectAs = async (user: SimulatedUser, link: string, browser = new Browser()) => {
    sim.accounts.authorizingUser = user.userId;
    const { res } = await browser.follow(link);
    return { status: res.status, text: await res.text() };
  };
  const connection = async (id: string) => (await store.get(id)) as Connection;

  it('a connect link connects once: used again after connecting, it gets a clear 409 page and changes nothing', async () => {
    const { id, authorize_url } = await create('Show One');
    const connected = await connectAs(alice, authorize_url);
    assert.equal(connected.status, 200);
    assert.match(connected.text, /Your Auphonic account &#34;alice&#34; is connected as &#34;Show One&#34;/, 'the page names the account');
    const token = await store.accessToken(await connection(id));

    // The link, forwarded or left in a mailbox, in another Auphonic user's browser.
    const again = await connectAs(bob, authorize_url);
    assert.equal(again.status, 409);
    assert.match(again.text, /already been used/);
    const after = await connection(id);
    assert.equal(after.auphonicUser?.userId, alice.userId);
    assert.equal(after.status, 'connected');
    assert.equal(await store.accessToken(after), token);
    assert.deepEqual(sim.services(bob.userId), []);
  });

  it('two windows started from one link: the one completed second is refused', async () => {
    const { id, authorize_url } = await create('Show Two');
    const callback = `${publicUrl}/oauth/callback`;
    sim.accounts.authorizingUser = alice.userId;
    const first = new Browser();
    const firstBack = await first.follow(authorize_url, callback);
    sim.accounts.authorizingUser = bob.userId;
    const second = new Browser();
    const secondBack = await second.follow(authorize_url, callback);
    assert.equal((await first.get(firstBack.url)).status, 200);
    const late = await second.get(secondBack.url);
    assert.equal(late.status, 409);
    assert.match(await late.text(), /already been used/);
    assert.equal((await connection(id)).auphonicUser?.userId, alice.userId);
    assert.deepEqual(sim.services(bob.userId), []);
  });

  it('keeps a few flows per connection in Redis however often its link is opened, and a HEAD of it starts none', async () => {
    const { id, authorize_url } = await create('Show Opened Often');
    sim.accounts.authorizingUser = alice.userId;
    const browser = new Browser();
    const { url } = await browser.follow(authorize_url, `${publicUrl}/oauth/callback`);
    // While the user is at Auphonic: a link checker's HEAD, and a second window.
    assert.equal((await fetch(authorize_url, { method: 'HEAD', redirect: 'manual' })).status, 404);
    assert.equal((await fetch(authorize_url, { redirect: 'manual' })).status, 302);
    assert.equal((await browser.get(url)).status, 200, "the browser's own flow still completes");
    assert.equal((await connection(id)).auphonicUser?.userId, alice.userId);

    const other = await create('Show Opened Very Often');
    const keys = async () => redis.keys(`${f.keyPrefix}oauth-*`);
    const before = (await keys()).length;
    for (let i = 0; i < 30; i++) assert.equal((await fetch(other.authorize_url, { redirect: 'manual' })).status, 302);
    const after = await keys();
    assert.equal(after.length, before + 1, 'one key for the connection');
    assert.equal(await redis.hlen(`${f.keyPrefix}oauth-flows:${other.id}`), 5, 'its newest five flows');
  });

  it('leaves the flow as it was for a callback that cannot be its own: a forged state, or a refusal without state', async () => {
    const { id, authorize_url } = await create('Show Stranger Links');
    sim.accounts.authorizingUser = alice.userId;
    const browser = new Browser();
    const { url } = await browser.follow(authorize_url, `${publicUrl}/oauth/callback`);
    const forged = new URL(url);
    forged.searchParams.set('state', 'forged-state');
    assert.equal((await browser.get(forged.toString())).status, 400);
    assert.equal((await browser.get(`${publicUrl}/oauth/callback?error=access_denied`)).status, 400);
    const twice = await browser.get(`${publicUrl}/oauth/callback?code=a&code=b`);
    assert.equal(twice.status, 400);
    assert.match(twice.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await twice.text(), /malformed/);
    // The browser's own callback still connects.
    assert.equal((await browser.get(url)).status, 200);
    assert.equal((await connection(id)).auphonicUser?.userId, alice.userId);
  });

  it('reconnecting is an admin action; its link never switches the connection to another Auphonic user', async () => {
    const { id, authorize_url } = await create('Show Three');
    assert.equal((await connectAs(alice, authorize_url)).status, 200);
    const before = await connection(id);
    const token = await store.accessToken(before);

    assert.equal((await fetch(`${publicUrl}/api/connections/${id}/reconnect`, { method: 'POST' })).status, 401);
    assert.equal((await admin('/api/connections/AAAAAAAAAAAAAAAAAAAAAA/reconnect', {})).status, 404);
    const reconnect = await admin(`/api/connections/${id}/reconnect`, {});
    assert.equal(reconnect.status, 200);
    assert.equal(reconnect.body.id, id);
    assert.notEqual(reconnect.body.authorize_url, authorize_url);

    const wrong = await connectAs(bob, reconnect.body.authorize_url);
    assert.equal(wrong.status, 409);
    assert.match(wrong.text, /another account than the one this connection belongs to/);
    const unchanged = await connection(id);
    assert.deepEqual(unchanged.auphonicUser, before.auphonicUser);
    assert.equal(unchanged.status, 'connected');
    assert.equal(await store.accessToken(unchanged), token);
    assert.deepEqual(
      sim.services(bob.userId).filter((s) => s.display_name === 'Show Three'),
      [],
    );

    // The right user, with the same link: connected again, with a fresh token.
    assert.equal((await connectAs(alice, reconnect.body.authorize_url)).status, 200);
    const renewed = await connection(id);
    assert.equal(renewed.auphonicUser?.userId, alice.userId);
    assert.notEqual(await store.accessToken(renewed), token);
    // Both links are used up now.
    for (const link of [authorize_url, reconnect.body.authorize_url]) assert.equal((await connectAs(alice, link)).status, 409);
  });

  it('re-authorising a user whose connections needed it: each works again and gets a reconcile job', async () => {
    await reconcile.obliterate({ force: true });
    const carol = sim.addUser({ username: 'carol' });
    const one = await create('Show Four');
    const two = await create('Show Five');
    for (const c of [one, two]) assert.equal((await connectAs(carol, c.authorize_url)).status, 200);
    await store.markNeedsReauth(carol.userId, 'Auphonic refused the token (HTTP 401)');
    assert.equal((await connection(one.id)).status, 'needs_reauth');

    const { body } = await admin(`/api/connections/${one.id}/reconnect`, {});
    assert.equal((await connectAs(carol, body.authorize_url)).status, 200);
    for (const c of [one, two]) {
      const now = await connection(c.id);
      assert.equal(now.status, 'connected', c.id);
      assert.equal(now.problem, null);
    }
    const jobs = await reconcile.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    assert.equal(reconcile.name, QUEUES.reconcile);
    assert.deepEqual(
      jobs.map((j) => [j.name, j.data.connectionId]).sort(),
      [
        [RECONCILE_JOB_NAMES.connection, one.id],
        [RECONCILE_JOB_NAMES.connection, two.id],
      ].sort(),
    );
  });

  it("keeps the service uuid Auphonic's connect answer gave", async () => {
    const { id, authorize_url } = await create('Show Six');
    assert.equal((await connectAs(alice, authorize_url)).status, 200);
    const service = sim.services(alice.userId).find((s) => s.display_name === 'Show Six');
    assert.ok(service);
    assert.equal((await connection(id)).serviceUuid, service.uuid);
  });
});

/** The ingress's External Service settings, for calling the connect flow's functions directly. */
function serviceConfig(env: Record<string, string> = {}) {
  const config = readConfig({
    AUPHONIC_CLIENT_ID: 'id',
    AUPHONIC_CLIENT_SECRET: 'client-secret',
    PUBLIC_URL: 'https://bridge.example',
    ADMIN_TOKEN: 'a'.repeat(24),
    ENCRYPTION_KEY: KEY.toString('hex'),
    ...env,
  }).externalService;
  assert.ok(config);
  return config;
}

describe('the service uuid, when the connect answer does not say it', () => {
  let redis: TestRedis;
  let client: Redis;
  let auphonic: Server;
  let services: unknown[];
  const calls: string[] = [];
  const config = serviceConfig();

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url.toString());
    // An Auphonic whose connect answer has no uuid (its shape is undocumented).
    auphonic = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const data = req.url === '/api/services.json' ? services : {};
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status_code: 200, data }));
    });
    await new Promise<void>((resolve) => auphonic.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    auphonic.close();
    client.disconnect();
    await redis.close();
  });

  /** Registers a new connection with this answer of services.json, given its webhook URL. */
  const register = async (displayName: string, listed: (webhookUrl: string) => unknown[]) => {
    const store = new ConnectionStore(client, new Sealer(KEY));
    const c = await store.create({ displayName, customData: null, returnUrl: null });
    services = listed(`https://bridge.example/webhooks/service/${c.id}`);
    const api = new AuphonicClient({ baseUrl: new URL(`http://127.0.0.1:${(auphonic.address() as AddressInfo).port}`), token: 't' });
    const warnings: string[] = [];
    const log = { warn: (_obj: unknown, msg?: string) => warnings.push(String(msg)) };
    const registered = await registerService(config, store, api, c, { userId: '1', username: 'u' }, log);
    return { registered, stored: await store.get(c.id), warnings };
  };

  it('takes it from GET /api/services.json: the service with our display_name and webhook_url', async () => {
    const { registered, stored } = await register('My Host', (webhookUrl) => [
      { uuid: 'outgoing0000000000000A', display_name: 'Dropbox', type: 'dropbox' },
      { uuid: 'otherurl00000000000000', display_name: 'My Host', webhook_url: 'https://elsewhere.example/hook', type: 'external' },
      { uuid: 'ours000000000000000000', display_name: 'My Host', webhook_url: webhookUrl, type: 'external' },
    ]);
    assert.equal(registered.serviceUuid, 'ours000000000000000000');
    assert.equal(stored?.serviceUuid, 'ours000000000000000000');
    assert.deepEqual(calls.slice(-2), ['POST /api/service/connect.json', 'GET /api/services.json']);
  });

  it('by display_name alone when the list shows no webhook_url; unknown (null, with a warning) when it is not one service', async () => {
    const named = await register('Named', () => [{ uuid: 'byname0000000000000000', display_name: 'Named' }]);
    assert.equal(named.registered.serviceUuid, 'byname0000000000000000');
    const twins = await register('Twins', () => [
      { uuid: 'twin1', display_name: 'Twins' },
      { uuid: 'twin2', display_name: 'Twins' },
    ]);
    assert.equal(twins.registered.serviceUuid, null);
    assert.match(twins.warnings.join(), /service uuid unknown/);
    assert.equal(twins.registered.status, 'connected', 'the connection works without it');
  });
});

describe('completing a connection that Auphonic then fails', () => {
  let redis: TestRedis;
  let client: Redis;
  let auphonic: Server;
  let reconcile: ReconcileQueue;
  let connectAnswers = 503;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
    reconcile = createReconcileQueue(client);
    // The token and the user as Auphonic gives them; connect.json answers connectAnswers.
    auphonic = createServer((req, res) => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      req.resume();
      if (req.url === '/oauth2/token/') return json(200, { access_token: 'token-of-alice', token_type: 'Bearer', user_name: 'alice' });
      if (req.url === '/api/user.json') return json(200, { status_code: 200, data: { user_id: 'u1', username: 'alice' } });
      if (req.url === '/api/service/connect.json') {
        return json(connectAnswers, {
          status_code: connectAnswers,
          data: connectAnswers === 200 ? { uuid: 'svc0000000000000000001' } : null,
        });
      }
      json(404, { status_code: 404 });
    });
    await new Promise<void>((resolve) => auphonic.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    auphonic.close();
    await reconcile.close();
    client.disconnect();
    await redis.close();
  });

  it("changes neither the user's connection of that name nor the pending one until Auphonic registered it", async () => {
    const config = serviceConfig({ AUPHONIC_BASE_URL: `http://127.0.0.1:${(auphonic.address() as AddressInfo).port}` });
    const store = new ConnectionStore(client, new Sealer(KEY));
    const existing = await store.create({ displayName: 'Dup', customData: { v: 1 }, returnUrl: null });
    await store.update(existing.id, { status: 'connected', auphonicUser: { userId: 'u1', username: 'alice' } });
    const pending = await store.create({ displayName: 'Dup', customData: { v: 2 }, returnUrl: 'https://host.example/back' });
    const deps = { config, store, reconcileQueue: reconcile };
    const log = { warn: () => {} };

    await assert.rejects(completeConnection(deps, pending, 'code', log), /503/);
    assert.deepEqual((await store.get(existing.id))?.customData, { v: 1 });
    assert.equal((await store.get(existing.id))?.returnUrl, null);
    assert.ok(await store.get(pending.id), 'the pending connection is kept: its link can be used again');

    connectAnswers = 200;
    const connected = await completeConnection(deps, pending, 'code', log);
    assert.equal(connected.id, existing.id);
    assert.deepEqual([connected.customData, connected.returnUrl, connected.status], [{ v: 2 }, 'https://host.example/back', 'connected']);
    assert.equal(await store.get(pending.id), null);
  });
});
