import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnService } from '@auphonic-bridge/testing';
import { readConfig } from '../src/config.ts';

/** The settings of External Service mode. */
const SERVICE = {
  AUPHONIC_CLIENT_ID: 'id',
  AUPHONIC_CLIENT_SECRET: 'client-secret',
  PUBLIC_URL: 'https://bridge.example',
  ADMIN_TOKEN: 'a'.repeat(24),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('ingress config', () => {
  it('accepts a current and a previous webhook secret', () => {
    const c = readConfig({ WEBHOOK_SECRET: 'a'.repeat(16), WEBHOOK_SECRET_PREVIOUS: 'b'.repeat(16) });
    assert.deepEqual(c.webhookSecrets, ['a'.repeat(16), 'b'.repeat(16)]);
    assert.equal(c.port, 3000);
  });

  it('refuses a short secret or one that cannot sit in a URL path, without echoing it', () => {
    assert.throws(() => readConfig({ WEBHOOK_SECRET: 'short' }), /WEBHOOK_SECRET: must be at least 16/);
    assert.throws(
      () => readConfig({ WEBHOOK_SECRET: 'has/slash/0123456789' }),
      (err: Error) => /WEBHOOK_SECRET: may only contain/.test(err.message) && !err.message.includes('has/slash'),
    );
    assert.throws(() => readConfig({ WEBHOOK_SECRET: 'a'.repeat(16), PORT: '70000' }), /PORT: must be <= 65535/);
  });

  it('stops at a malformed ENCRYPTION_KEY in External Service mode, naming it, and requires the settings of the mode', () => {
    const service = SERVICE;
    assert.deepEqual(readConfig(service).externalService?.encryptionKeys, [Buffer.alloc(32, 1)]);
    assert.deepEqual(readConfig(service).webhookSecrets, [], 'production webhooks are optional in this mode');
    assert.throws(() => readConfig({ ...service, ENCRYPTION_KEY: 'not-32-bytes' }), /ENCRYPTION_KEY: must be 32 bytes/);
    assert.throws(
      () => readConfig({ AUPHONIC_CLIENT_ID: 'id' }),
      (err: Error) => ['AUPHONIC_CLIENT_SECRET', 'PUBLIC_URL', 'ADMIN_TOKEN', 'ENCRYPTION_KEY'].every((n) => err.message.includes(`${n}:`)),
    );
  });

  it('takes AUPHONIC_BASE_URL as an origin only, as the worker does: the client secret goes there', () => {
    const service = SERVICE;
    assert.equal(readConfig(service).externalService?.auphonicBaseUrl.href, 'https://auphonic.com/');
    assert.equal(
      readConfig({ ...service, AUPHONIC_BASE_URL: 'http://127.0.0.1:8080' }).externalService?.auphonicBaseUrl.origin,
      'http://127.0.0.1:8080',
    );
    for (const bad of ['https://auphonic.com/api', 'https://auphonic.com/?x=1']) {
      assert.throws(() => readConfig({ ...service, AUPHONIC_BASE_URL: bad }), /AUPHONIC_BASE_URL: must be an origin only/);
    }
  });

  it('takes the previous ADMIN_TOKEN and ENCRYPTION_KEY while rotating, and names a malformed one', () => {
    const service = {
      ...SERVICE,
      ADMIN_TOKEN_PREVIOUS: 'b'.repeat(24),
      ENCRYPTION_KEY_PREVIOUS: Buffer.alloc(32, 2).toString('hex'),
    };
    const c = readConfig(service).externalService;
    assert.deepEqual(readConfig(service).adminTokens, ['a'.repeat(24), 'b'.repeat(24)]);
    assert.deepEqual(c?.encryptionKeys, [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
    assert.throws(() => readConfig({ ...service, ADMIN_TOKEN_PREVIOUS: 'short' }), /ADMIN_TOKEN_PREVIOUS: must be at least 24/);
    assert.throws(() => readConfig({ ...service, ENCRYPTION_KEY_PREVIOUS: 'short' }), /ENCRYPTION_KEY_PREVIOUS: must be 32 bytes/);
  });

  it('waits for a replica by default with Sentinel only, and refuses the waits on a cluster, naming them', () => {
    const secret = { WEBHOOK_SECRET: 'a'.repeat(16) };
    const sentinels = { ...secret, REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster' };
    assert.equal(readConfig(secret).enqueueWaitReplicas, 0);
    assert.equal(readConfig(sentinels).enqueueWaitReplicas, 1);
    assert.equal(readConfig({ ...sentinels, ENQUEUE_WAIT_REPLICAS: '0' }).enqueueWaitReplicas, 0);
    assert.equal(readConfig({ ...secret, ENQUEUE_WAIT_REPLICAS: '2' }).enqueueWaitReplicas, 2);
    const cluster = { ...secret, REDIS_CLUSTER_NODES: 'redis-1:6379', QUEUE_PREFIX: '{bridge}' };
    assert.equal(readConfig(cluster).enqueueWaitReplicas, 0);
    assert.throws(
      () => readConfig({ ...cluster, ENQUEUE_WAIT_REPLICAS: '1' }),
      /ENQUEUE_WAIT_REPLICAS: is not supported with REDIS_CLUSTER_NODES/,
    );
    assert.throws(
      () => readConfig({ ...cluster, ENQUEUE_WAIT_AOF: 'true' }),
      /ENQUEUE_WAIT_AOF: is not supported with REDIS_CLUSTER_NODES/,
    );
  });

  it('takes ADMIN_TOKEN as optional outside External Service mode (it turns the replay route on)', () => {
    const account = { WEBHOOK_SECRET: 'a'.repeat(16) };
    assert.deepEqual(readConfig(account).adminTokens, []);
    assert.deepEqual(readConfig({ ...account, ADMIN_TOKEN: 'c'.repeat(24) }).adminTokens, ['c'.repeat(24)]);
    assert.throws(() => readConfig({ ...account, ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN: must be at least 24/);
    assert.throws(
      () => readConfig({ ...account, ADMIN_TOKEN_PREVIOUS: 'd'.repeat(24) }),
      /ADMIN_TOKEN_PREVIOUS: is set without ADMIN_TOKEN/,
    );
  });

  it('stops the process at start when WEBHOOK_SECRET is missing', async () => {
    const ingress = spawnService('ingress', {});
    assert.equal(await ingress.exited, 78);
    assert.match(ingress.output(), /WEBHOOK_SECRET: is required/);
  });
});
