import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { type FreezableProxy, startFreezableProxy, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';
import { Ajv } from 'ajv';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { type IngressFixture, startIngress } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const CLIENT_SECRET = 'client-secret-0123456789';
const PREVIOUS_SECRET = 'previous-client-secret-01';
const KEY = Buffer.alloc(32, 7);
const UUID = 'ShfFXnXeAiHoB8U4uFJQS3';

const serviceEnv = {
  AUPHONIC_CLIENT_ID: 'bridge-client',
  AUPHONIC_CLIENT_SECRET: CLIENT_SECRET,
  AUPHONIC_CLIENT_SECRET_PREVIOUS: PREVIOUS_SECRET,
  AUPHONIC_BASE_URL: 'http://127.0.0.1:9',
  PUBLIC_URL: 'http://bridge.example',
  ADMIN_TOKEN: ADMIN,
  ENCRYPTION_KEY: KEY.toString('hex'),
  RESULT_PAGE_URL_TEMPLATE: 'https://podcasts.example/episodes/{uuid}?show={custom_data.show}',
};

const sign = (payload: Record<string, unknown>, secret = CLIENT_SECRET, alg = 'HS256') =>
  new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));

/** A JWT with alg "none": header.payload. and no signature. */
const unsigned = (payload: Record<string, unknown>) =>
  `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

describe('External Service: admin API and JWT webhook', () => {
  let f: IngressFixture;
  let redis: Redis;
  let store: ConnectionStore;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(f.url(path), {
      ...init,
      headers: { authorization: `Bearer ${ADMIN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
  const jobs = () => f.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);

  before(async () => {
    f = await startIngress(serviceEnv);
    redis = new Redis(f.redis.url.toString());
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });
  beforeEach(async () => {
    await f.queue.obliterate({ force: true });
  });

  it('refuses the admin API without the bearer token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: ADMIN }]) {
      const res = await fetch(f.url('/api/connections'), { headers });
      assert.equal(res.status, 401);
    }
  });

  it('creates a connection and answers a link for the user', async () => {
    const res = await admin('/api/connections', {
      method: 'POST',
      body: JSON.stringify({ display_name: 'My Podcast Host', custom_data: { show: 'abc' }, return_url: 'https://host.example/back' }),
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { id: string; authorize_url: string };
    assert.match(body.id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(body.authorize_url.startsWith('http://bridge.example/oauth/start?t='));
    const listed = (await (await admin('/api/connections')).json()) as { connections: Array<Record<string, unknown>> };
    const mine = listed.connections.find((c) => c.id === body.id);
    assert.equal(mine?.status, 'pending');
    assert.deepEqual(mine?.custom_data, { show: 'abc' });
    assert.equal(mine?.webhook_url, `http://bridge.example/webhooks/service/${body.id}`);
  });

  for (const [what, body] of [
    ['no display_name', { custom_data: 1 }],
    ['an empty display_name', { display_name: '' }],
    ['a return_url that is not http(s)', { display_name: 'x', return_url: 'javascript:alert(1)' }],
    // Passes the schema's scheme check; the callback's redirect would throw on it, after connecting.
    ['a return_url that is no URL', { display_name: 'x', return_url: 'http://' }],
    ['an unknown field', { display_name: 'x', token: 'y' }],
  ] as const) {
    it(`refuses a connection with ${what} (400 with a reason)`, async () => {
      const res = await admin('/api/connections', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 400);
      assert.ok(((await res.json()) as { message: string }).message.length > 0);
    });
  }

  it("sets a connection's notify URL (PATCH), refuses loopback, private and non-http ones (SSRF), and resets it with null", async () => {
    const c = await store.create({ displayName: 'notified', customData: null, returnUrl: null });
    const patch = (body: unknown) => admin(`/api/connections/${c.id}`, { method: 'PATCH', body: JSON.stringify(body) });
    for (const bad of [
      'http://127.0.0.1:8080/hook',
      'http://10.1.2.3/hook',
      'http://[::1]/x',
      'http://169.254.169.254/latest',
      'http://localhost/x',
      'ftp://host.example/x',
      'https://user:pw@host.example/x',
    ]) {
      const res = await patch({ notify_url: bad });
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as { error: string }).error, 'ERR_BAD_NOTIFY_URL', bad);
    }
    assert.equal((await store.get(c.id))?.notifyUrl, undefined, 'a refusal changes nothing');
    const set = await patch({ notify_url: 'https://cms.example/hooks/auphonic' });
    assert.equal(set.status, 200);
    assert.equal(((await set.json()) as { notify_url: string }).notify_url, 'https://cms.example/hooks/auphonic');
    assert.equal((await store.get(c.id))?.notifyUrl, 'https://cms.example/hooks/auphonic');
    assert.equal(((await (await patch({ notify_url: null })).json()) as { notify_url: unknown }).notify_url, null);
    assert.equal((await patch({ nonsense: 1 })).status, 400);
    assert.equal((await admin('/api/connections/AAAAAAAAAAAAAAAAAAAAAA', { method: 'PATCH', body: '{}' })).status, 404);
  });

  it('removes a connection; its webhook then answers 404', async () => {
    const c = await store.create({ displayName: 'gone', customData: null, returnUrl: null });
    assert.equal((await admin(`/api/connections/${c.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await admin(`/api/connections/${c.id}`)).status, 404);
    const res = await fetch(f.url(`/webhooks/service/${c.id}`), {
      method: 'POST',
      body: await sign({ uuid: UUID }),
      headers: { 'content-type': 'application/jwt' },
    });
    assert.equal(res.status, 404);
  });

  it('serves an OpenAPI document generated from the routes: every route, and answers that fit what it says', async () => {
    type Doc = {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const doc = (await (await fetch(f.url('/openapi.json'))).json()) as Doc;
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assert.ok(!documented.some((r) => r.includes('/openapi.json')), 'the document itself is not in it');
    for (const expected of [
      'POST /webhooks/auphonic/{secret}',
      'POST /webhooks/service/{connectionId}',
      'POST /api/connections',
      'GET /api/connections',
      'GET /api/connections/{id}',
      'DELETE /api/connections/{id}',
      'PATCH /api/connections/{id}',
      'POST /api/connections/{id}/reconnect',
      'POST /api/connections/{id}/services',
      'POST /api/productions/{uuid}/replay',
      'GET /oauth/start',
      'GET /oauth/callback',
      'GET /healthz',
      'GET /livez',
    ]) {
      assert.ok(documented.includes(expected), `${expected} is in the document`);
    }
    assert.ok(doc.components.securitySchemes.admin);
    // What the document says an answer is, the answer is.
    const ajv = new Ajv({ strict: false, validateFormats: false });
    ajv.addSchema(doc, 'doc');
    const pointer = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');
    const schemaOf = (path: string, status: string) => ({
      $ref: `doc#/paths/${pointer(path)}/get/responses/${status}/content/${pointer('application/json')}/schema`,
    });
    await store.create({ displayName: 'documented', customData: { a: 1 }, returnUrl: null });
    const list = await (await admin('/api/connections')).json();
    assert.ok(ajv.validate(schemaOf('/api/connections', '200'), list), ajv.errorsText());
    assert.ok((list as { connections: unknown[] }).connections.length > 0);
    const missing = await (await admin('/api/connections/AAAAAAAAAAAAAAAAAAAAAA')).json();
    assert.ok(ajv.validate(schemaOf('/api/connections/{id}', '404'), missing), ajv.errorsText());
  });

  describe('the JWT webhook', () => {
    let id: string;
    before(async () => {
      id = (await store.create({ displayName: 'hook', customData: { show: 'xyz' }, returnUrl: null })).id;
    });
    const post = (body: string, contentType: string | null = 'application/jwt', connection = id) =>
      fetch(f.url(`/webhooks/service/${connection}`), {
        method: 'POST',
        // Bytes, so that fetch adds no content-type of its own when there is none.
        body: new TextEncoder().encode(body),
        headers: contentType === null ? {} : { 'content-type': contentType },
      });

    // Auphonic's guide says "a POST request in JSON format encoded using JWT"; its curl example
    // sends application/jwt. Whatever it sends, the token is the body.
    const forms: Array<[string, string | null, (token: string) => string]> = [
      ['application/jwt', 'application/jwt', (t) => t],
      ['application/jwt with a charset and a newline', 'application/jwt; charset=utf-8', (t) => `${t}\r\n`],
      ['application/json holding the bare token', 'application/json', (t) => t],
      ['application/json holding the token as a JSON string', 'application/json', (t) => JSON.stringify(t)],
      ['text/plain', 'text/plain;charset=UTF-8', (t) => t],
      ['application/x-www-form-urlencoded (curl -d)', 'application/x-www-form-urlencoded', (t) => t],
      ['no content type at all', null, (t) => t],
      ['a JSON string without a content type', null, (t) => ` ${JSON.stringify(t)}\n`],
    ];
    for (const [what, contentType, body] of forms) {
      it(`takes the token sent as ${what}`, async () => {
        const res = await post(body(await sign({ uuid: UUID, custom_data: { show: 'xyz' } })), contentType);
        assert.equal(res.status, 200, await res.text());
        const [job, ...rest] = await jobs();
        assert.equal(rest.length, 0);
        assert.equal(job?.data.uuid, UUID);
      });

      it(`still refuses a token with alg none, and a forged one, sent as ${what}`, async () => {
        for (const token of [unsigned({ uuid: UUID }), await sign({ uuid: UUID }, 'not-the-client-secret')]) {
          assert.equal((await post(body(token), contentType)).status, 401);
        }
        assert.equal((await jobs()).length, 0);
      });
    }

    it('logs a refused token with its connection and reason, never the token', async () => {
      const forged = await sign({ uuid: UUID }, 'not-the-client-secret');
      const before = f.logs.lines.length;
      assert.equal((await post(forged)).status, 401);
      const refused = f.logs
        .records()
        .slice(before)
        .find((r) => r.msg === 'service webhook refused');
      assert.equal(refused?.connection, id);
      assert.equal(refused?.code, 'ERR_BAD_SIGNATURE');
      assert.ok(!f.logs.text.includes(forged), 'the token is not logged');
    });

    it('queues a verified webhook with the connection id, uuid and custom_data, and answers result_page_url', async () => {
      const res = await post(await sign({ uuid: UUID, custom_data: { show: 'xyz' } }));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { result_page_url: `https://podcasts.example/episodes/${UUID}?show=xyz` });
      const [job, ...rest] = await jobs();
      assert.equal(rest.length, 0);
      assert.deepEqual(job?.data.owner, { kind: 'connection', id });
      assert.equal(job?.data.uuid, UUID);
      assert.deepEqual(job?.data.customData, { show: 'xyz' });
    });

    it('answers 200 with a well-formed result_page_url for custom_data holding a lone surrogate (legal JSON)', async () => {
      const res = await post(await sign({ uuid: UUID, custom_data: { show: 'a\ud800b' } }));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { result_page_url: `https://podcasts.example/episodes/${UUID}?show=a%EF%BF%BDb` });
    });

    it('accepts a token signed with the previous client secret (rotation)', async () => {
      assert.equal((await post(await sign({ uuid: UUID }, PREVIOUS_SECRET))).status, 200);
    });

    it('queues a redelivered JWT once', async () => {
      const token = await sign({ uuid: UUID });
      for (let i = 0; i < 3; i++) assert.equal((await post(token)).status, 200);
      assert.equal((await jobs()).length, 1);
    });

    const tampered = async () => {
      const [h, p, s] = (await sign({ uuid: UUID })).split('.');
      const payload = Buffer.from(JSON.stringify({ uuid: 'AAAAAAAAAAAAAAAAAAAAAA' })).toString('base64url');
      assert.ok(p);
      return `${h}.${payload}.${s}`;
    };
    const refusals: Array<[string, () => Promise<string> | string, number, (string | null)?, string?]> = [
      ['alg none', () => unsigned({ uuid: UUID }), 401],
      ['HS512', () => sign({ uuid: UUID }, CLIENT_SECRET, 'HS512'), 401],
      ['a wrong secret', () => sign({ uuid: UUID }, 'not-the-client-secret'), 401],
      ['a tampered payload', tampered, 401],
      ['a malformed token', () => 'not.a.jwt', 400],
      ['an empty body', () => '', 400],
      ['a payload without a valid uuid', () => sign({ uuid: '../../x' }), 400],
      ['a form body of fields', () => `uuid=${UUID}`, 400, 'application/x-www-form-urlencoded'],
      ['a JSON object', () => JSON.stringify({ uuid: UUID }), 400, 'application/json'],
      ['a body over WEBHOOK_BODY_LIMIT', async () => `${await sign({ uuid: UUID })}${' '.repeat(20_000)}`, 413],
      ['an unknown connection', () => sign({ uuid: UUID }), 404, 'application/jwt', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ];
    for (const [what, token, status, contentType, connection] of refusals) {
      it(`refuses ${what} with ${status} and queues nothing`, async () => {
        const res = await post(await token(), contentType, connection);
        assert.equal(res.status, status);
        assert.equal((await jobs()).length, 0);
      });
    }
  });
});

describe('admin API: registering another service when Auphonic fails', () => {
  let auphonic: Server;
  let answer = 401;
  let f: IngressFixture;
  let redis: Redis;
  let store: ConnectionStore;
  const admin = (path: string, body: unknown) =>
    fetch(f.url(path), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  before(async () => {
    // Auphonic answering every call with `answer`.
    auphonic = createServer((req, res) => {
      req.resume();
      res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ status_code: answer, error_message: 'no' }));
    });
    await new Promise<void>((resolve) => auphonic.listen(0, '127.0.0.1', resolve));
    f = await startIngress({ ...serviceEnv, AUPHONIC_BASE_URL: `http://127.0.0.1:${(auphonic.address() as AddressInfo).port}` });
    redis = new Redis(f.redis.url.toString());
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
    auphonic.close();
  });
  const connected = async (userId: string, displayName: string) => {
    const c = await store.create({ displayName, customData: { v: 1 }, returnUrl: null });
    await store.saveAccessToken(userId, `token-of-${userId}`);
    return (await store.update(c.id, { status: 'connected', auphonicUser: { userId, username: userId } })) ?? c;
  };

  it('answers 502 when Auphonic fails, and changes nothing: no new connection, the same name keeps its custom_data', async () => {
    answer = 503;
    const base = await connected('u-502', 'Show');
    const before = (await store.list()).length;
    const added = await admin(`/api/connections/${base.id}/services`, { display_name: 'Another Show' });
    assert.equal(added.status, 502);
    assert.equal(((await added.json()) as { error: string }).error, 'ERR_AUPHONIC_FAILED');
    const same = await admin(`/api/connections/${base.id}/services`, { display_name: 'Show', custom_data: { v: 2 } });
    assert.equal(same.status, 502);
    assert.equal((await store.list()).length, before);
    assert.deepEqual((await store.get(base.id))?.customData, { v: 1 });
  });

  it("answers 409 ERR_NEEDS_REAUTH when Auphonic refuses the user's token (not its 401), and marks the connection so", async () => {
    answer = 401;
    const base = await connected('u-401', 'Refused Show');
    const res = await admin(`/api/connections/${base.id}/services`, { display_name: 'Another Show' });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { error: string }).error, 'ERR_NEEDS_REAUTH');
    assert.equal((await store.get(base.id))?.status, 'needs_reauth');
  });
});

describe('admin API and service webhook when Redis stops answering, its socket still open', () => {
  let upstream: TestRedis;
  let proxy: FreezableProxy;
  let f: IngressFixture;
  before(async () => {
    upstream = await startRedis();
    proxy = await startFreezableProxy({ host: '127.0.0.1', port: upstream.port });
    f = await startIngress({ ...serviceEnv, REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  });
  after(async () => {
    proxy.thaw();
    await f.close();
    await proxy.close();
    await upstream.close();
  });

  it('answers 503 within about ENQUEUE_TIMEOUT_MS (1 s here), not when the socket times out', async () => {
    proxy.freeze();
    const started = Date.now();
    const list = await fetch(f.url('/api/connections'), {
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(list.status, 503);
    assert.equal(((await list.json()) as { error: string }).error, 'ERR_REDIS_UNAVAILABLE');
    const hook = await fetch(f.url('/webhooks/service/AbCdEf0123456789abcdef'), {
      method: 'POST',
      body: await sign({ uuid: UUID }),
      headers: { 'content-type': 'application/jwt' },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(hook.status, 503);
    assert.ok(Date.now() - started < 6_000, `answered after ${Date.now() - started} ms`);
    proxy.thaw();
  });
});

describe('External Service webhook when Redis is unavailable', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress(serviceEnv, { ownRedis: true });
  });
  after(() => f.close());

  it('answers 503 (Auphonic tries again), like the production webhook, and recovers', async () => {
    const connect = async () => {
      const redis = new Redis(f.redis.url.toString());
      const c = await new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix }).create({
        displayName: 'x',
        customData: null,
        returnUrl: null,
      });
      redis.disconnect();
      return c.id;
    };
    const post = async (id: string) =>
      fetch(f.url(`/webhooks/service/${id}`), {
        method: 'POST',
        body: await sign({ uuid: UUID }),
        headers: { 'content-type': 'application/jwt' },
      });
    const id = await connect();
    await f.redis.stop?.();
    try {
      const res = await post(id);
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { message: string }).message, /try again/);
      assert.equal((await fetch(f.webhookUrl(), { method: 'POST', body: new URLSearchParams({ uuid: UUID, status: '3' }) })).status, 503);
    } finally {
      await f.redis.restart?.();
    }
    await waitFor(async () => (await fetch(f.url('/healthz'))).status === 200, 'healthz after redis restart');
    // The test's Redis keeps nothing across a restart: the connection is made again.
    assert.equal((await post(await connect())).status, 200);
  });
});

describe('admin API and connect pages when Redis is unavailable', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress(serviceEnv, { ownRedis: true });
  });
  after(() => f.close());

  const admin = (path: string, body?: unknown) =>
    fetch(f.url(path), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('answers 503 with Retry-After (JSON for the API, a page for the browser), not 500, and recovers', async () => {
    const made = (await (await admin('/api/connections', { display_name: 'Show' })).json()) as { authorize_url: string };
    const start = new URL(made.authorize_url);
    await f.redis.stop?.();
    try {
      const list = await admin('/api/connections');
      assert.equal(list.status, 503);
      assert.equal(list.headers.get('retry-after'), '5');
      assert.deepEqual(await list.json(), { error: 'ERR_REDIS_UNAVAILABLE', message: 'Redis is unavailable right now; try again' });
      const page = await fetch(f.url(`${start.pathname}${start.search}`), { redirect: 'manual' });
      assert.equal(page.status, 503);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /Try again in a moment/);
    } finally {
      await f.redis.restart?.();
    }
    await waitFor(async () => (await admin('/api/connections')).status === 200, 'the admin API after Redis is back');
  });
});

describe('External Service webhook: rate limit per connection', () => {
  let f: IngressFixture;
  let redis: Redis;
  let store: ConnectionStore;
  before(async () => {
    f = await startIngress({ ...serviceEnv, SERVICE_WEBHOOK_RATE_LIMIT: '3' });
    redis = new Redis(f.redis.url.toString());
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('answers 429 with Retry-After past SERVICE_WEBHOOK_RATE_LIMIT a minute for one connection, and not for another', async () => {
    const token = await sign({ uuid: UUID });
    const post = (id: string) =>
      fetch(f.url(`/webhooks/service/${id}`), { method: 'POST', body: token, headers: { 'content-type': 'application/jwt' } });
    const busy = (await store.create({ displayName: 'busy', customData: null, returnUrl: null })).id;
    const calm = (await store.create({ displayName: 'calm', customData: null, returnUrl: null })).id;
    for (let i = 0; i < 3; i++) assert.equal((await post(busy)).status, 200);
    const limited = await post(busy);
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.deepEqual(((await limited.json()) as { error: string }).error, 'ERR_RATE_LIMITED');
    assert.equal((await post(calm)).status, 200);
  });

  it('counts only deliveries that verify: junk for a known connection id spends none of its allowance', async () => {
    const id = (await store.create({ displayName: 'targeted', customData: null, returnUrl: null })).id;
    const post = (body: string) =>
      fetch(f.url(`/webhooks/service/${id}`), { method: 'POST', body, headers: { 'content-type': 'application/jwt' } });
    const forged = await sign({ uuid: UUID }, 'not-the-client-secret-at-all');
    for (let i = 0; i < 5; i++) assert.equal((await post('x')).status, 400);
    for (let i = 0; i < 5; i++) assert.equal((await post(forged)).status, 401);
    const token = await sign({ uuid: UUID });
    for (let i = 0; i < 3; i++) assert.equal((await post(token)).status, 200);
    assert.equal((await post(token)).status, 429);
  });

  it('counts in Redis, so that every ingress replica shares the limit', async () => {
    const id = (await store.create({ displayName: 'shared', customData: null, returnUrl: null })).id;
    const second = await startIngress({
      ...serviceEnv,
      SERVICE_WEBHOOK_RATE_LIMIT: '3',
      REDIS_URL: f.redis.url.toString(),
      QUEUE_PREFIX: f.redis.prefix,
    });
    try {
      const token = await sign({ uuid: UUID });
      const post = (base: IngressFixture) =>
        fetch(base.url(`/webhooks/service/${id}`), { method: 'POST', body: token, headers: { 'content-type': 'application/jwt' } });
      for (const replica of [f, second, f]) assert.equal((await post(replica)).status, 200);
      assert.equal((await post(second)).status, 429);
    } finally {
      await second.close();
    }
  });
});
