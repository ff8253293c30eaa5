// Redis over TLS, on each topology: one node (rediss:// in REDIS_URL), a Redis Cluster and
// Sentinel (REDIS_TLS=true), each trusting the test CA (REDIS_TLS_CA_FILE). Every port of these
// servers takes TLS only, so a job that goes in and comes out went over TLS. A server whose
// certificate the bridge cannot verify is never used.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import {
  addProductionJob,
  createProducerConnection,
  createProductionQueue,
  createWorkerConnection,
  QUEUES,
  type RedisConnection,
  readRedisSettings,
  untilRedisReady,
} from '@auphonic-bridge/queue';
import { EnvReader } from '@auphonic-bridge/runtime';
import {
  freePort,
  makeTestCertificates,
  spawnService,
  startRedis,
  startRedisCluster,
  startRedisSentinels,
  type TestCertificates,
  type TestRedis,
  waitFor,
} from '@auphonic-bridge/testing';
import { Worker } from 'bullmq';

const SECRET = 'tls-secret-0123456789abcdef';

const settingsOf = (env: Record<string, string>) => {
  const r = new EnvReader(env);
  const settings = readRedisSettings(r);
  r.done();
  return settings;
};

/** A production job added through a producer connection is taken by a BullMQ worker on a worker connection: both over TLS. */
async function roundTrip(env: Record<string, string>): Promise<void> {
  const settings = settingsOf(env);
  const producer = createProducerConnection(settings);
  const consumer = createWorkerConnection(settings);
  const queue = createProductionQueue(producer, { prefix: settings.prefix });
  const uuid = `tls${Math.random().toString(36).slice(2, 14).padEnd(12, '0')}0000000`.slice(0, 22);
  let worker: Worker | undefined;
  try {
    const taken = new Promise<string>((resolve) => {
      worker = new Worker(QUEUES.productions, async (job) => resolve(job.data.uuid as string), {
        connection: consumer,
        prefix: settings.prefix,
      });
    });
    const job = await addProductionJob(queue, { uuid, owner: { kind: 'account' }, reportedStatus: 3 });
    // Bounded, and saying where it stuck: a hang here once ran into the 5-minute test timeout, unexplained.
    const late = setTimeout(30_000, 'late' as const, { ref: false });
    const first = await Promise.race([taken, late]);
    if (first === 'late')
      assert.fail(`job ${job.id} not taken in 30 s (its state: ${await job.getState().catch((e: Error) => e.message)})`);
    assert.equal(first, uuid);
  } finally {
    // Forced: what is tested is the round trip, and a close waiting on a blocking command must not hang the file.
    await worker?.close(true);
    await queue.close();
    producer.disconnect();
    consumer.disconnect();
  }
}

describe('Redis over TLS', () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await makeTestCertificates();
  });
  after(() => certs?.close());

  describe('one node: rediss:// in REDIS_URL', () => {
    let redis: TestRedis;
    before(async () => {
      redis = await startRedis({ tls: certs });
    });
    after(() => redis?.close());

    it('queues and takes jobs, trusting REDIS_TLS_CA_FILE', async () => {
      await roundTrip({ REDIS_URL: redis.url.toString(), REDIS_TLS_CA_FILE: certs.caFile, QUEUE_PREFIX: 'tls1' });
    });

    it('the ingress, started as operators start it, answers a webhook 200 with its job in Redis', async () => {
      const port = await freePort();
      const env = { REDIS_URL: redis.url.toString(), REDIS_TLS_CA_FILE: certs.caFile, QUEUE_PREFIX: 'tls2' };
      const ingress = spawnService('ingress', { ...env, WEBHOOK_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: '0' });
      const settings = settingsOf(env);
      const reader = createProducerConnection(settings);
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'the ingress to be healthy');
        const res = await fetch(`http://127.0.0.1:${port}/webhooks/auphonic/${SECRET}`, {
          method: 'POST',
          body: new URLSearchParams({ uuid: 'TLSxXnXeAiHoB8U4uFJQS3', status: '3' }),
        });
        assert.equal(res.status, 200);
        const queue = createProductionQueue(reader, { prefix: settings.prefix });
        const [job] = await queue.getJobs(['waiting']);
        assert.equal(job?.data.uuid, 'TLSxXnXeAiHoB8U4uFJQS3');
        await queue.close();
      } finally {
        reader.disconnect();
        assert.equal(await ingress.stop('SIGTERM'), 0);
      }
    });

    it('never uses a server whose certificate it cannot verify, and says why by its code', async () => {
      // Node's own CAs do not know the test CA.
      const problems: string[] = [];
      const logger = { warn: (obj: object) => problems.push((obj as { code?: string }).code ?? '') };
      const untrusted = createProducerConnection(settingsOf({ REDIS_URL: redis.url.toString() }), { logger });
      try {
        assert.equal(await untilRedisReady(untrusted, 1_500), false);
        // Redis sends its CA along: Node finds a chain that ends in a CA it does not trust.
        assert.ok(
          problems.some((code) => ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'].includes(code)),
          problems.join(', '),
        );
      } finally {
        untrusted.disconnect();
      }
    });

    it('nor one whose certificate names another host', async () => {
      const elsewhere = await makeTestCertificates({ names: 'DNS:redis.elsewhere.example' });
      const other = await startRedis({ tls: elsewhere });
      const problems: string[] = [];
      const logger = { warn: (obj: object) => problems.push((obj as { code?: string }).code ?? '') };
      let connection: RedisConnection | undefined;
      try {
        connection = createProducerConnection(settingsOf({ REDIS_URL: other.url.toString(), REDIS_TLS_CA_FILE: elsewhere.caFile }), {
          logger,
        });
        assert.equal(await untilRedisReady(connection, 1_500), false);
        assert.ok(problems.includes('ERR_TLS_CERT_ALTNAME_INVALID'), problems.join(', '));
      } finally {
        connection?.disconnect();
        await other.close();
        await elsewhere.close();
      }
    });
  });

  it('a Redis Cluster with REDIS_TLS=true (its bus over TLS too)', async () => {
    const cluster = await startRedisCluster({ tls: certs });
    try {
      await roundTrip({
        REDIS_CLUSTER_NODES: cluster.nodes,
        REDIS_PASSWORD: cluster.password,
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: certs.caFile,
        QUEUE_PREFIX: '{tls}',
      });
    } finally {
      await cluster.close();
    }
  });

  it('Sentinel with REDIS_TLS=true: the sentinels, the primary they name, and the new one after a failover', async () => {
    const set = await startRedisSentinels({ sentinels: 1, tls: certs });
    const env = {
      REDIS_SENTINELS: set.sentinels,
      REDIS_SENTINEL_NAME: set.name,
      REDIS_PASSWORD: set.password,
      REDIS_SENTINEL_PASSWORD: set.sentinelPassword,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: certs.caFile,
      QUEUE_PREFIX: 'tls3',
    };
    try {
      await roundTrip(env);
      const { to } = await set.failover();
      assert.equal(await set.primaryPort(), to);
      await roundTrip(env);
    } finally {
      await set.close();
    }
  });
});
