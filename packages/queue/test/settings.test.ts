import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EnvReader } from '@auphonic-bridge/runtime';
import { bridgeKeyPrefix, describeRedis, hashTag, type RedisSettings, readRedisSettings } from '../src/index.ts';

const read = (env: Record<string, string>): RedisSettings => {
  const r = new EnvReader(env);
  const settings = readRedisSettings(r);
  r.done();
  return settings;
};

/** The problems a start-up would stop at, one a line. */
const problems = (env: Record<string, string>): string => {
  try {
    read(env);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('Redis settings (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS, QUEUE_PREFIX)', () => {
  it('is one node at REDIS_URL by default, with the keys where they always were', () => {
    const s = read({});
    assert.deepEqual(s, {
      topology: { kind: 'single', url: new URL('redis://127.0.0.1:6379') },
      password: null,
      tls: null,
      prefix: 'bull',
    });
    assert.equal(bridgeKeyPrefix(s), 'bridge:');
  });

  it('reads the nodes of a cluster, with a hash-tagged prefix', () => {
    const s = read({
      REDIS_CLUSTER_NODES: 'redis-1:6379, 10.0.0.2:7000,[::1]:7001',
      QUEUE_PREFIX: '{bridge}',
      REDIS_PASSWORD: 'p@ss:word',
    });
    assert.deepEqual(s.topology, {
      kind: 'cluster',
      nodes: [
        { host: 'redis-1', port: 6379 },
        { host: '10.0.0.2', port: 7000 },
        { host: '::1', port: 7001 },
      ],
    });
    assert.equal(s.password, 'p@ss:word');
    assert.equal(bridgeKeyPrefix(s), '{bridge}:bridge:');
  });

  it('refuses a cluster without a hash tag in QUEUE_PREFIX (the default too), naming QUEUE_PREFIX', () => {
    for (const prefix of [undefined, 'bridge', '{}bridge', 'bri{dge']) {
      const env: Record<string, string> = { REDIS_CLUSTER_NODES: 'redis-1:6379' };
      if (prefix) env.QUEUE_PREFIX = prefix;
      assert.match(problems(env), /QUEUE_PREFIX: must hold a hash tag with REDIS_CLUSTER_NODES, e\.g\. \{bridge\}/, String(prefix));
    }
    assert.equal(hashTag('a{b}c'), 'b');
    assert.equal(hashTag('{}{b}'), null, 'Redis reads only the first {…}');
  });

  it('reads sentinels and the name they monitor, with passwords for the data nodes and for the sentinels', () => {
    const s = read({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    assert.deepEqual(s.topology, {
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
    });
    assert.equal(s.password, 'data-secret');
    assert.match(problems({ REDIS_SENTINELS: 's1:26379' }), /REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/);
  });

  it('names each setting that contradicts another, or is malformed, without echoing a value', () => {
    const message = problems({
      REDIS_URL: 'redis://:hunter2@redis:6379',
      REDIS_CLUSTER_NODES: 'redis://:hunter2@redis-1:6379,redis-2',
      REDIS_SENTINELS: 's1:99999',
      REDIS_SENTINEL_NAME: 'm',
      QUEUE_PREFIX: '{bridge}',
    });
    for (const expected of [
      /REDIS_CLUSTER_NODES: entry 1 is not host:port/,
      /REDIS_CLUSTER_NODES: entry 2 is not host:port/,
      /REDIS_SENTINELS: entry 1 is not host:port/,
      /REDIS_SENTINELS: set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both/,
      /REDIS_URL: names one Redis: leave it unset with REDIS_CLUSTER_NODES/,
    ]) {
      assert.match(message, expected);
    }
    assert.ok(!message.includes('hunter2'), message);
    assert.match(
      problems({ REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_PASSWORD: 'x' }),
      /REDIS_SENTINEL_NAME: is set without REDIS_SENTINELS/,
    );
    assert.match(problems({ REDIS_SENTINEL_PASSWORD: 'x' }), /REDIS_SENTINEL_PASSWORD: is set without REDIS_SENTINELS/);
    const twice = problems({ REDIS_URL: 'redis://:hunter2@redis:6379', REDIS_PASSWORD: 'hunter3' });
    assert.match(twice, /REDIS_PASSWORD: is set and REDIS_URL carries a password too/);
    assert.ok(!twice.includes('hunter'), twice);
  });

  it('names where the queues are for a message, with the setting and never a password', () => {
    assert.equal(
      describeRedis(read({ REDIS_URL: 'redis://:hunter2-secret@redis.internal:6380/2' })),
      'Redis at redis.internal:6380 (REDIS_URL)',
    );
    assert.equal(
      describeRedis(read({ REDIS_CLUSTER_NODES: 'r1:7000,[::1]:7001', QUEUE_PREFIX: '{b}', REDIS_PASSWORD: 'hunter2-secret' })),
      'the Redis Cluster at r1:7000, [::1]:7001 (REDIS_CLUSTER_NODES)',
    );
    assert.equal(
      describeRedis(read({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'hunter2-secret' })),
      'mymaster through the sentinels s1:26379 (REDIS_SENTINELS)',
    );
    assert.equal(
      describeRedis(read({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}', REDIS_TLS: 'true' })),
      'the Redis Cluster at r1:7000 over TLS (REDIS_CLUSTER_NODES)',
    );
  });

  describe('TLS: rediss:// in REDIS_URL, REDIS_TLS with a cluster or sentinels, REDIS_TLS_CA_FILE', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bridge-tls-settings-'));
      await writeFile(join(dir, 'ca.pem'), CA_PEM);
      await writeFile(join(dir, 'not-a-ca.txt'), 'hello');
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('is on with rediss:// and with REDIS_TLS=true on a cluster or sentinels, off otherwise', () => {
      assert.deepEqual(read({ REDIS_URL: 'rediss://redis.internal:6380' }).tls, { ca: null });
      assert.equal(read({ REDIS_URL: 'redis://redis.internal:6380' }).tls, null);
      assert.deepEqual(read({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}', REDIS_TLS: 'true' }).tls, { ca: null });
      assert.equal(read({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}' }).tls, null);
      assert.deepEqual(read({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_TLS: 'yes' }).tls, { ca: null });
    });

    it('reads the CA file once, at start', () => {
      const file = join(dir, 'ca.pem');
      assert.deepEqual(read({ REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA_FILE: file }).tls, { ca: CA_PEM });
      assert.deepEqual(read({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: file }).tls, {
        ca: CA_PEM,
      });
    });

    it('names the setting when TLS contradicts the URL, a CA file comes without TLS, or cannot be read or used', () => {
      assert.match(
        problems({ REDIS_URL: 'redis://r:6379', REDIS_TLS: 'true' }),
        /REDIS_TLS: with REDIS_URL, TLS is the URL's scheme: rediss:\/\//,
      );
      assert.match(
        problems({ REDIS_URL: 'rediss://r:6379', REDIS_TLS: 'false' }),
        /REDIS_TLS: with REDIS_URL, TLS is the URL's scheme: redis:\/\//,
      );
      assert.equal(problems({ REDIS_URL: 'rediss://r:6379', REDIS_TLS: 'true' }), '');
      assert.match(
        problems({ REDIS_TLS: 'maybe', REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}' }),
        /REDIS_TLS: must be true or false/,
      );
      assert.match(
        problems({ REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }),
        /REDIS_TLS_CA_FILE: is set without TLS \(rediss:\/\/ in REDIS_URL\)/,
      );
      assert.match(
        problems({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{b}', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }),
        /REDIS_TLS_CA_FILE: is set without TLS \(REDIS_TLS=true\)/,
      );
      assert.match(
        problems({ REDIS_URL: 'rediss://r:6379', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }),
        /REDIS_TLS_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/,
      );
      assert.match(
        problems({ REDIS_URL: 'rediss://r:6379', REDIS_TLS_CA_FILE: join(dir, 'not-a-ca.txt') }),
        /REDIS_TLS_CA_FILE: .*not-a-ca\.txt holds no PEM certificate/,
      );
    });
  });
});

/** Any PEM certificate will do: the settings only read it. */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUFakeFakeFakeFakeFakeFakeFakeFakwCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----
`;
