import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { startRedis, type TestRedis } from '@auphonic-bridge/testing';
import { UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.ts';
import { credentialsFor } from '../src/credentials.ts';
import { toJobError } from '../src/errors.ts';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const base = { STORAGE_DIR: '/tmp/x', ENCRYPTION_KEY: NEW.toString('base64') };

describe('worker: rotating ENCRYPTION_KEY', () => {
  let server: TestRedis;
  let redis: Redis;
  let connectionId: string;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url.toString());
    const store = new ConnectionStore(redis, new Sealer(OLD));
    const c = await store.create({ displayName: 'x', customData: null, returnUrl: null, auphonicUser: { userId: 'u1', username: 'u' } });
    await store.update(c.id, { status: 'connected' });
    await store.saveAccessToken('u1', 'token-sealed-with-the-old-key');
    connectionId = c.id;
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });

  const sources = (keys: Buffer[]) => ({
    baseUrl: new URL('http://127.0.0.1:9'),
    apiKey: null,
    connections: new ConnectionStore(redis, new Sealer(keys)),
  });

  it('reads ENCRYPTION_KEY_PREVIOUS beside ENCRYPTION_KEY, and names it when malformed', () => {
    assert.deepEqual(readConfig({ ...base, ENCRYPTION_KEY_PREVIOUS: OLD.toString('hex') }).encryptionKey, [NEW, OLD]);
    assert.deepEqual(readConfig(base).encryptionKey, [NEW]);
    assert.throws(() => readConfig({ ...base, ENCRYPTION_KEY_PREVIOUS: 'short' }), /ENCRYPTION_KEY_PREVIOUS: must be 32 bytes/);
  });

  it('opens a token sealed with the previous key', async () => {
    const credentials = await credentialsFor(sources([NEW, OLD]), { kind: 'connection', id: connectionId });
    assert.ok(credentials.client);
  });

  it('a token no configured key opens is a permanent ERR_DECRYPT naming both settings, never a retry', async () => {
    await new ConnectionStore(redis, new Sealer(OLD)).saveAccessToken('u1', 'token-sealed-with-the-old-key');
    const err = await credentialsFor(sources([NEW]), { kind: 'connection', id: connectionId }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as { code?: string; retryable?: boolean; message: string },
    );
    assert.equal(err.code, 'ERR_DECRYPT');
    assert.equal(err.retryable, false);
    assert.match(err.message, /ENCRYPTION_KEY\b.*ENCRYPTION_KEY_PREVIOUS/);
    assert.match(err.message, new RegExp(connectionId));
    assert.ok(toJobError(err) instanceof UnrecoverableError);
  });
});
