// The refusal cases of the webhook routes, through app.inject with a stub enqueuer: no Redis,
// no socket. Each refusal answers with a status and a reason, and queues nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sealer } from '@auphonic-bridge/connections';
import { createRegistry, ingressMetrics } from '@auphonic-bridge/metrics';
import { createLogger } from '@auphonic-bridge/runtime';
import { SignJWT } from 'jose';
import { type App, buildApp } from '../src/app.ts';
import type { ExternalServiceConfig } from '../src/config.ts';
import type { Enqueuer } from '../src/enqueue.ts';

const SECRET = 'test-secret-0123456789abcdef';
const CLIENT_SECRET = 'client-secret-of-the-oauth-app';
const UUID = 'ShfFXnXeAiHoB8U4uFJQS3';
const CONNECTION = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('webhook refusals (app.inject, a stub enqueuer)', () => {
  let app: App;
  const queued: unknown[] = [];
  before(async () => {
    const enqueuer: Enqueuer = {
      enqueueProduction: async (job) => {
        queued.push(job);
        return 'job-1';
      },
      waitForResult: async () => undefined,
      close: async () => {},
    };
    const registry = createRegistry('test');
    const config = {
      publicUrl: 'https://bridge.example',
      clientSecrets: [CLIENT_SECRET],
      serviceWebhookRateLimit: 0,
      resultWaitMs: 0,
      resultPageUrlTemplate: null,
      publicFilesUrl: null,
    } as unknown as ExternalServiceConfig;
    // The one connection there is; every other id is unknown.
    const store = { get: async (id: string) => (id === CONNECTION ? { id } : null) };
    app = buildApp({
      logger: createLogger({ service: 'test', level: 'silent' }),
      enqueuer,
      isReady: async () => true,
      metrics: ingressMetrics(registry),
      redis: undefined as never,
      keyPrefix: 'bridge:',
      webhookSecrets: [SECRET],
      adminTokens: ['admin-token-0123456789abcdefghij'],
      bodyLimit: 16 * 1024,
      service: { config, store: store as never, sealer: new Sealer([Buffer.alloc(32, 1)]), reconcileQueue: undefined as never },
    });
    await app.ready();
  });
  after(() => app.close());
  beforeEach(() => {
    queued.length = 0;
  });

  const form = (body: string) => ({ body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const refusals: Array<[string, { body?: string; headers?: Record<string, string> }, number, RegExp]> = [
    ['a missing uuid', form('status=3'), 400, /uuid/],
    ['a uuid that is a path', form('uuid=..%2F..%2Fetc%2Fpasswd&status=3'), 400, /uuid/],
    ['a uuid longer than 64 characters', form(`uuid=${'a'.repeat(65)}&status=3`), 400, /uuid/],
    ['a missing status', form(`uuid=${UUID}`), 400, /status/],
    ['a non-numeric status', form(`uuid=${UUID}&status=done`), 400, /status/],
    ['a field given twice', form(`uuid=${UUID}&uuid=${UUID}&status=3`), 400, /more than once/],
    ['more than 20 fields', form(`uuid=${UUID}&status=3${'&x=1'.repeat(30)}`), 413, /more than 20 fields/],
    ['JSON', { body: JSON.stringify({ uuid: UUID, status: '3' }), headers: { 'content-type': 'application/json' } }, 415, /.+/],
    ['plain text', { body: 'uuid', headers: { 'content-type': 'text/plain' } }, 415, /.+/],
    ['a body over the limit', form(`uuid=${UUID}&status=3&padding=${'x'.repeat(20_000)}`), 413, /.+/],
    ['no body', {}, 400, /uuid/],
  ];
  for (const [what, request, status, reason] of refusals) {
    it(`production webhook: refuses ${what} with ${status} and a reason`, async () => {
      const res = await app.inject({ method: 'POST', url: `/webhooks/auphonic/${SECRET}`, ...request });
      assert.equal(res.statusCode, status);
      assert.match(res.json<{ message: string }>().message, reason);
      assert.match(res.json<{ error: string }>().error, /^ERR_/);
      assert.deepEqual(queued, []);
    });
  }

  it('production webhook: a wrong secret is a 404, whatever the body (form, multipart, another type, none)', async () => {
    const boundary = 'b0undary';
    const bodies = [
      form(`uuid=${UUID}&status=3`),
      {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: `--${boundary}\r\ncontent-disposition: form-data; name="uuid"\r\n\r\n${UUID}\r\n--${boundary}--\r\n`,
      },
      { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
      {},
    ];
    for (const body of bodies) {
      const res = await app.inject({ method: 'POST', url: '/webhooks/auphonic/wrong-secret-0123456789', ...body });
      assert.equal(res.statusCode, 404, JSON.stringify(body.headers ?? 'no body'));
    }
    assert.deepEqual(queued, []);
  });

  it('production webhook: takes a good one (the stub saw it)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/webhooks/auphonic/${SECRET}`,
      ...form(`uuid=${UUID}&status=3&status_string=Done`),
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'queued', uuid: UUID });
    assert.deepEqual(queued, [{ uuid: UUID, owner: { kind: 'account' }, reportedStatus: 3 }]);
  });

  const sign = (payload: Record<string, unknown>, secret = CLIENT_SECRET, alg = 'HS256') =>
    new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
  const unsigned = (payload: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

  const serviceRefusals: Array<[string, () => Promise<{ url?: string; body: string }>, number, RegExp]> = [
    [
      'an unknown connection',
      async () => ({ url: '/webhooks/service/BBBBBBBBBBBBBBBBBBBBBB', body: await sign({ uuid: UUID }) }),
      404,
      /no such webhook/,
    ],
    ['an empty body', async () => ({ body: '' }), 400, /not a JWT/],
    ['something that is no JWT', async () => ({ body: 'hello' }), 400, /well-formed JWT/],
    ['a token signed with another secret', async () => ({ body: await sign({ uuid: UUID }, 'not-the-client-secret') }), 401, /signature/],
    ['a token with alg none', async () => ({ body: unsigned({ uuid: UUID }) }), 401, /.+/],
    ['a token with another algorithm', async () => ({ body: await sign({ uuid: UUID }, CLIENT_SECRET, 'HS512') }), 401, /algorithm/],
    ['a token without a production uuid', async () => ({ body: await sign({ custom_data: {} }) }), 400, /uuid/],
  ];
  for (const [what, make, status, reason] of serviceRefusals) {
    it(`service webhook: refuses ${what} with ${status} and a reason`, async () => {
      const { url, body } = await make();
      const res = await app.inject({
        method: 'POST',
        url: url ?? `/webhooks/service/${CONNECTION}`,
        body,
        headers: { 'content-type': 'application/jwt' },
      });
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json<{ message: string }>().message, reason);
      assert.deepEqual(queued, []);
    });
  }
});

describe('a client that trickles its request (a real socket)', () => {
  it('is answered 408 and let go once its headers take more than 10 s, not the 60 s of Node’s default', async () => {
    const app = buildApp({
      logger: createLogger({ service: 'test', level: 'silent' }),
      enqueuer: { enqueueProduction: async () => 'job-1', waitForResult: async () => undefined, close: async () => {} },
      isReady: async () => true,
      metrics: ingressMetrics(createRegistry('test')),
      redis: undefined as never,
      keyPrefix: 'bridge:',
      webhookSecrets: [SECRET],
      adminTokens: [],
      bodyLimit: 16 * 1024,
      service: null,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    const started = Date.now();
    // A header byte a second, never the blank line that ends them.
    const trickle = setInterval(() => socket.write('x'), 1000);
    try {
      socket.write(`POST /webhooks/auphonic/${SECRET} HTTP/1.1\r\nHost: bridge\r\nX-Slow: `);
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
      });
      await Promise.race([once(socket, 'close'), sleep(25_000)]);
      const seconds = (Date.now() - started) / 1000;
      assert.ok(socket.destroyed || socket.readableEnded, `still open after ${seconds.toFixed(1)} s`);
      assert.ok(seconds < 15, `let go after ${seconds.toFixed(1)} s`);
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
      await app.close();
    }
  });
});
