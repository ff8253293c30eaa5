import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError } from '@auphonic-bridge/runtime';
import { spawnService } from '@auphonic-bridge/testing';
import { readConfig } from '../src/config.ts';

const good = { AUPHONIC_API_KEY: 'key-0123456789', STORAGE_DIR: '/tmp/x' };

describe('worker config', () => {
  it('reads defaults', () => {
    const c = readConfig(good);
    assert.equal(c.auphonicBaseUrl.origin, 'https://auphonic.com');
    assert.deepEqual(c.redis.topology, { kind: 'single', url: new URL('redis://127.0.0.1:6379') });
    assert.equal(c.redis.prefix, 'bull');
    assert.equal(c.concurrency, 2);
    assert.equal(c.verifyChecksums, true);
  });

  it("refuses the example's CHANGE_ME placeholder, though long enough for AUPHONIC_API_KEY's 8 characters", () => {
    assert.throws(
      () => readConfig({ ...good, AUPHONIC_API_KEY: 'CHANGE_ME' }),
      /AUPHONIC_API_KEY: is still the example's placeholder CHANGE_ME/,
    );
  });

  it('names every missing or malformed setting at once', () => {
    try {
      readConfig({ AUPHONIC_BASE_URL: 'ftp://x', REDIS_URL: 'not a url', WORKER_CONCURRENCY: 'many', LOG_LEVEL: 'loud' });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      for (const name of ['AUPHONIC_API_KEY', 'STORAGE_DIR', 'AUPHONIC_BASE_URL', 'REDIS_URL', 'WORKER_CONCURRENCY', 'LOG_LEVEL']) {
        assert.match(err.message, new RegExp(`${name}:`));
      }
    }
  });

  it('takes STORAGE_URL for S3, and refuses both STORAGE_URL and STORAGE_DIR or a malformed ENCRYPTION_KEY', () => {
    const c = readConfig({ AUPHONIC_API_KEY: 'key-0123456789', STORAGE_URL: 's3://media/podcasts/', S3_ENDPOINT: 'http://minio:9000' });
    assert.deepEqual(c.storage, {
      kind: 's3',
      setting: 'STORAGE_URL',
      bucket: 'media',
      prefix: 'podcasts',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      partSize: 5 * 1024 * 1024,
      concurrency: 1,
      timeouts: { connectMs: 10_000, socketMs: 60_000, requestMs: 300_000 },
      spool: { dir: tmpdir(), maxBytes: 512 * 1024 * 1024 },
    });
    const spool = (value: string) => {
      const storage = readConfig({ AUPHONIC_API_KEY: 'key-0123456789', STORAGE_URL: 's3://media', DOWNLOAD_SPLIT_SPOOL_MB: value }).storage;
      return storage.kind === 's3' ? storage.spool : undefined;
    };
    assert.deepEqual(spool('0'), { dir: tmpdir(), maxBytes: 0 }, '0: never split to S3');
    assert.throws(() => spool('-1'), /DOWNLOAD_SPLIT_SPOOL_MB/);
    assert.throws(() => spool('lots'), /DOWNLOAD_SPLIT_SPOOL_MB/);
    assert.deepEqual(readConfig({ ...good, STORAGE_DIR: undefined, STORAGE_URL: 'file:///srv/x' }).storage, {
      kind: 'directory',
      path: '/srv/x',
      setting: 'STORAGE_URL',
    });
    assert.throws(() => readConfig({ ...good, STORAGE_URL: 's3://b' }), /STORAGE_DIR: set STORAGE_URL or STORAGE_DIR, not both/);
    assert.throws(() => readConfig({ ...good, STORAGE_DIR: undefined, STORAGE_URL: 'ftp://x' }), /STORAGE_URL: must be file/);
    assert.throws(() => readConfig({ ...good, ENCRYPTION_KEY: 'abc' }), /ENCRYPTION_KEY: must be 32 bytes/);
    assert.equal(
      readConfig({ STORAGE_DIR: '/x', ENCRYPTION_KEY: 'a'.repeat(64) }).auphonicApiKey,
      null,
      'the API key is optional for a connections-only worker',
    );
  });

  it('reads PUBLIC_FILES_URL, the public base of stored keys, and refuses one that is not http(s)', () => {
    assert.equal(readConfig(good).publicFilesUrl, null);
    assert.equal(
      readConfig({ ...good, PUBLIC_FILES_URL: 'https://cdn.example.com/podcasts/' }).publicFilesUrl?.href,
      'https://cdn.example.com/podcasts/',
    );
    assert.throws(() => readConfig({ ...good, PUBLIC_FILES_URL: 'ftp://cdn.example.com' }), /PUBLIC_FILES_URL:/);
  });

  it('never echoes a Redis URL, which may hold a password', () => {
    assert.throws(
      () => readConfig({ ...good, REDIS_URL: 'redis://:hunter2@' }),
      (err: Error) => !err.message.includes('hunter2'),
    );
  });

  it('stops the process at start with the setting named, before touching anything', async () => {
    const worker = spawnService('worker', { STORAGE_DIR: '/tmp/x', AUPHONIC_API_KEY: 'short' });
    assert.equal(await worker.exited, 78);
    assert.match(worker.output(), /AUPHONIC_API_KEY: must be at least 8 characters/);
    assert.ok(!worker.output().includes('short'), 'the bad value itself is not echoed');
  });
});
