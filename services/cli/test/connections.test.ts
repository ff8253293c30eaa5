// pnpm bridge connections list against a real redis-server: what the admin API lists, never tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Connection, ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { bridgeKeyPrefix } from '@auphonic-bridge/queue';
import { redisSpace, type TestRedisSpace } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { bridge, errorOf, jsonOf, printed } from './helpers.ts';

const KEY = Buffer.alloc(32, 6);
const TOKEN = 'oauth-token-of-the-user-0123456789';

describe('pnpm bridge connections list', () => {
  let space: TestRedisSpace;
  let redis: Redis;
  let store: ConnectionStore;
  let env: Record<string, string>;
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString());
    store = new ConnectionStore(redis, new Sealer(KEY), { keyPrefix: bridgeKeyPrefix(space) });
    env = { REDIS_URL: space.url.toString(), QUEUE_PREFIX: space.prefix, ENCRYPTION_KEY: KEY.toString('base64') };
  });
  after(async () => {
    redis.disconnect();
    await space.close();
  });

  it('says there are none', async () => {
    const run = await bridge(['connections', 'list'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'no connections\n');
  });

  it('lists id, display_name, user, status and the notify URL (- when there is none), never a token', async () => {
    const pending = await store.create({ displayName: 'Pending Host', customData: null, returnUrl: null });
    const user = { userId: 'u-42', username: 'podcaster' };
    await store.saveAccessToken(user.userId, TOKEN);
    const created = await store.create({ displayName: 'My Podcast Host', customData: { show: 1 }, returnUrl: null, auphonicUser: user });
    // A notify URL as the outbound notifications keep it on the connection (a token in its query is redacted).
    await store.update(created.id, {
      status: 'connected',
      notifyUrl: 'https://cms.example/hook?token=cms-secret-99',
    } as Partial<Connection>);

    const run = await bridge(['connections', 'list'], env);
    assert.equal(run.code, 0, run.stderr);
    const [header, ...rows] = run.stdout.trim().split('\n');
    assert.match(header ?? '', /^ID +DISPLAY NAME +USER +STATUS +NOTIFY URL$/);
    const row = (id: string) => rows.find((r) => r.startsWith(id))?.split(/ {2,}/);
    assert.deepEqual(row(pending.id), [pending.id, 'Pending Host', '-', 'pending', '-']);
    assert.deepEqual(row(created.id), [
      created.id,
      'My Podcast Host',
      'podcaster',
      'connected',
      'https://cms.example/hook?token=[redacted]',
    ]);

    const json = await bridge(['connections', 'list', '--json'], env);
    const listed = jsonOf<{ connections: Array<Record<string, unknown>> }>(json).connections;
    assert.deepEqual(
      listed.find((c) => c.id === created.id),
      {
        id: created.id,
        display_name: 'My Podcast Host',
        user: { user_id: 'u-42', username: 'podcaster' },
        status: 'connected',
        notify_url: 'https://cms.example/hook?token=[redacted]',
      },
    );
    for (const r of [run, json]) assert.ok(!printed(r).includes(TOKEN) && !printed(r).includes('cms-secret-99'));
  });

  it('needs ENCRYPTION_KEY, as the services do in External Service mode (exit 1)', async () => {
    const run = await bridge(['connections', 'list', '--json'], { REDIS_URL: env.REDIS_URL ?? '', QUEUE_PREFIX: space.prefix });
    assert.equal(run.code, 1);
    assert.deepEqual(errorOf(run), { error: 'ERR_CONFIG', message: 'ENCRYPTION_KEY: is required' });
  });
});
