import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { type Connection, ConnectionStore, DecryptionError, Sealer } from '../src/index.ts';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);

describe('ConnectionStore: rotating ENCRYPTION_KEY', () => {
  let server: TestRedis;
  let redis: Redis;
  let connection: Connection;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url.toString());
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });

  const store = (keys: Buffer | Buffer[]) => new ConnectionStore(redis, new Sealer(keys));
  const stored = () => redis.get('bridge:oauth-token:user-1');

  it('a token sealed with the old key opens with ENCRYPTION_KEY_PREVIOUS, and is sealed again with the new key', async () => {
    connection = await store(OLD).create({
      displayName: 'x',
      customData: null,
      returnUrl: null,
      auphonicUser: { userId: 'user-1', username: 'u' },
    });
    await store(OLD).saveAccessToken('user-1', 'token-abc');
    const sealedByOld = await stored();

    assert.equal(await store([NEW, OLD]).accessToken(connection), 'token-abc');
    const resealed = await stored();
    assert.notEqual(resealed, sealedByOld);
    assert.ok(!resealed?.includes('token-abc'));
    // The old key can now be dropped.
    assert.equal(await store(NEW).accessToken(connection), 'token-abc');
  });

  it('does not overwrite a token saved meanwhile: re-sealing replaces only the value it opened', async () => {
    await store(OLD).saveAccessToken('user-1', 'old-token');
    const rotating = store([NEW, OLD]);
    const get = redis.get.bind(redis);
    // A new authorisation lands between the read and the re-seal.
    redis.get = (async (k: string) => {
      const value = await get(k);
      await store(NEW).saveAccessToken('user-1', 'fresh-token');
      return value;
    }) as typeof redis.get;
    try {
      assert.equal(await rotating.accessToken(connection), 'old-token');
    } finally {
      redis.get = get;
    }
    assert.equal(await store(NEW).accessToken(connection), 'fresh-token');
  });

  it('a token no configured key opens fails with DecryptionError', async () => {
    await store(OLD).saveAccessToken('user-1', 'token-abc');
    await assert.rejects(store(NEW).accessToken(connection), DecryptionError);
  });
});
