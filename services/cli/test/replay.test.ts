// pnpm bridge replay against a real redis-server (a QUEUE_PREFIX of this file's own).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { bridgeKeyPrefix, createProductionQueue, type ProductionQueue } from '@auphonic-bridge/queue';
import { redisSpace, type TestRedisSpace } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { bridge, errorOf, jsonOf } from './helpers.ts';

const UUID = 'CliReplayXeAiHoB8U4uFJ';
const KEY = Buffer.alloc(32, 5);

describe('pnpm bridge replay', () => {
  let space: TestRedisSpace;
  let redis: Redis;
  let queue: ProductionQueue;
  let store: ConnectionStore;
  let env: Record<string, string>;
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString(), { maxRetriesPerRequest: null });
    queue = createProductionQueue(redis, { prefix: space.prefix });
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: bridgeKeyPrefix(space) });
    env = { REDIS_URL: space.url.toString(), QUEUE_PREFIX: space.prefix, ENCRYPTION_KEY: KEY.toString('hex') };
  });
  after(async () => {
    await queue.close();
    redis.disconnect();
    await space.close();
  });
  beforeEach(() => queue.obliterate({ force: true }));

  const jobs = () => queue.getJobs(['waiting', 'delayed', 'active']);

  it("queues the account's production, without force; a replay with --force joins the waiting job and forces it", async () => {
    const run = await bridge(['replay', UUID], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^queued production ${UUID} of the account again: job \\S+ \\(waiting\\)`));
    const [job, ...rest] = await jobs();
    assert.equal(rest.length, 0);
    assert.deepEqual(
      [job?.data.uuid, job?.data.owner, job?.data.reportedStatus, job?.data.force],
      [UUID, { kind: 'account' }, null, false],
    );

    const forced = await bridge(['replay', UUID, '--force', '--json'], env);
    assert.equal(forced.code, 0, forced.stderr);
    const answer = jsonOf<{ job_id: string; state: string; force: boolean; owner: unknown }>(forced);
    assert.deepEqual(answer, { uuid: UUID, owner: { kind: 'account' }, job_id: job?.id, state: 'waiting', force: true });
    assert.equal((await jobs()).length, 1, 'joined, not doubled');
    assert.equal((await queue.getJob(answer.job_id))?.data.force, true);
  });

  it("queues a connection's production for that connection", async () => {
    const c = await store.create({ displayName: 'Host', customData: null, returnUrl: null });
    const run = await bridge(['replay', UUID, '--connection', c.id, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const job = await queue.getJob(jsonOf<{ job_id: string }>(run).job_id);
    assert.deepEqual(job?.data.owner, { kind: 'connection', id: c.id });
  });

  it('takes a connection id that starts with "-" (base64url, one in 64) as the value of --connection', async () => {
    let c = await store.create({ displayName: 'Dash', customData: null, returnUrl: null });
    for (let i = 0; i < 2000 && !c.id.startsWith('-'); i++)
      c = await store.create({ displayName: 'Dash', customData: null, returnUrl: null });
    assert.ok(c.id.startsWith('-'), 'a connection id that starts with "-"');
    const run = await bridge(['replay', UUID, '--connection', c.id, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const job = await queue.getJob(jsonOf<{ job_id: string }>(run).job_id);
    assert.deepEqual(job?.data.owner, { kind: 'connection', id: c.id });
  });

  it('queues nothing for a connection that does not exist (exit 1), a malformed uuid (exit 2), or without ENCRYPTION_KEY (exit 1)', async () => {
    const unknown = await bridge(['replay', UUID, '--connection', 'ZZZZZZZZZZZZZZZZZZZZZZ', '--json'], env);
    assert.equal(unknown.code, 1);
    assert.equal(errorOf(unknown).error, 'ERR_NO_SUCH_CONNECTION');
    assert.equal((await bridge(['replay', 'not/a/uuid'], env)).code, 2);
    const { ENCRYPTION_KEY: _key, ...withoutKey } = env;
    const noKey = await bridge(['replay', UUID, '--connection', 'ZZZZZZZZZZZZZZZZZZZZZZ'], withoutKey);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /ENCRYPTION_KEY: is required/);
    assert.deepEqual(await jobs(), []);
  });
});
