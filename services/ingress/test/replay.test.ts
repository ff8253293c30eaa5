// POST /api/productions/{uuid}/replay: the admin API's replay, served whenever ADMIN_TOKEN is set.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { Redis } from 'ioredis';
import { type IngressFixture, startIngress } from './helpers.ts';

const ADMIN = 'replay-admin-token-0123456789ab';
const UUID = 'ReplayApiXeAiHoB8U4uFJ';
const KEY = Buffer.alloc(32, 9);

const post = (f: IngressFixture, path: string, body?: unknown, token: string | null = ADMIN) =>
  fetch(f.url(path), {
    method: 'POST',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('admin API: replay, in account-only mode with ADMIN_TOKEN', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress({ ADMIN_TOKEN: ADMIN });
  });
  after(() => f.close());
  beforeEach(() => f.queue.obliterate({ force: true }));

  const jobs = () => f.queue.getJobs(['waiting', 'delayed', 'active']);

  it('queues the production again for the account, without force unless asked, and answers 202 with the job', async () => {
    const res = await post(f, `/api/productions/${UUID}/replay`);
    assert.equal(res.status, 202);
    const body = (await res.json()) as { status: string; uuid: string; job_id: string; force: boolean };
    assert.deepEqual({ ...body, job_id: typeof body.job_id }, { status: 'queued', uuid: UUID, job_id: 'string', force: false });
    const [job, ...rest] = await jobs();
    assert.equal(rest.length, 0);
    assert.equal(job?.id, body.job_id);
    assert.deepEqual(
      [job?.data.uuid, job?.data.owner, job?.data.reportedStatus, job?.data.force],
      [UUID, { kind: 'account' }, null, false],
    );
  });

  it('with force: the job says so', async () => {
    const res = await post(f, `/api/productions/${UUID}/replay`, { force: true });
    assert.equal(res.status, 202);
    assert.equal(((await res.json()) as { force: boolean }).force, true);
    assert.equal((await jobs())[0]?.data.force, true);
  });

  for (const [what, path, body, status] of [
    ['a uuid that is not one', '/api/productions/not-a-uuid!/replay', {}, 400],
    ['an unknown field', `/api/productions/${UUID}/replay`, { forced: true }, 400],
    ['force that is no boolean', `/api/productions/${UUID}/replay`, { force: 'yes' }, 400],
    ['a connection id that is not one', `/api/productions/${UUID}/replay`, { connection_id: '../x' }, 400],
    ['a connection, with no External Service mode', `/api/productions/${UUID}/replay`, { connection_id: 'AAAAAAAAAAAAAAAAAAAAAA' }, 404],
  ] as const) {
    it(`refuses ${what} (${status}) and queues nothing`, async () => {
      const res = await post(f, path, body);
      assert.equal(res.status, status);
      assert.match(((await res.json()) as { error: string }).error, /^ERR_/);
      assert.deepEqual(await jobs(), []);
    });
  }

  it('refuses a missing or wrong token (401), and queues nothing', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef']) {
      assert.equal((await post(f, `/api/productions/${UUID}/replay`, {}, token)).status, 401);
    }
    assert.deepEqual(await jobs(), []);
  });

  it('is in the OpenAPI document, with the admin token', async () => {
    type Doc = { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>> };
    const doc = (await (await fetch(f.url('/openapi.json'))).json()) as Doc;
    const op = doc.paths['/api/productions/{uuid}/replay']?.post;
    assert.ok(op, 'documented');
    assert.deepEqual(op.security, [{ admin: [] }]);
    assert.ok(op.responses['202'] && op.responses['401']);
  });
});

describe('admin API: replay without ADMIN_TOKEN', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress();
  });
  after(() => f.close());

  it('does not exist (404), whatever the token', async () => {
    assert.equal((await post(f, `/api/productions/${UUID}/replay`, {}, 'anything-0123456789abcdefgh')).status, 404);
    const doc = (await (await fetch(f.url('/openapi.json'))).json()) as { paths: Record<string, unknown> };
    assert.equal(doc.paths['/api/productions/{uuid}/replay'], undefined);
  });
});

describe('admin API: replay of a connection production, in External Service mode', () => {
  let f: IngressFixture;
  let redis: Redis;
  let store: ConnectionStore;
  before(async () => {
    f = await startIngress({
      AUPHONIC_CLIENT_ID: 'bridge-client',
      AUPHONIC_CLIENT_SECRET: 'client-secret-0123456789',
      AUPHONIC_BASE_URL: 'http://127.0.0.1:9',
      PUBLIC_URL: 'http://bridge.example',
      ADMIN_TOKEN: ADMIN,
      ENCRYPTION_KEY: KEY.toString('hex'),
    });
    redis = new Redis(f.redis.url.toString());
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: f.keyPrefix });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('queues it for that connection, and answers 404 for a connection that does not exist', async () => {
    const c = await store.create({ displayName: 'Host', customData: null, returnUrl: null });
    const res = await post(f, `/api/productions/${UUID}/replay`, { connection_id: c.id, force: true });
    assert.equal(res.status, 202);
    const job = await f.queue.getJob(((await res.json()) as { job_id: string }).job_id);
    assert.deepEqual([job?.data.owner, job?.data.force], [{ kind: 'connection', id: c.id }, true]);
    assert.equal((await post(f, `/api/productions/${UUID}/replay`, { connection_id: 'BBBBBBBBBBBBBBBBBBBBBB' })).status, 404);
  });
});
