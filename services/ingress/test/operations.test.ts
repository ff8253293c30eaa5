import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { form, type IngressFixture, startIngress } from './helpers.ts';

const metric = (text: string, name: string, labels: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('ingress operations endpoints', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress({}, { ownRedis: true }); // its own: a test below counts the server's commands
  });
  after(() => f.close());

  it('answers /livez and /healthz on the public port and on METRICS_PORT', async () => {
    for (const url of [f.url, f.metricsUrl]) {
      assert.deepEqual(await (await fetch(url('/livez'))).json(), { status: 'ok' });
      assert.equal((await fetch(url('/healthz'))).status, 200);
    }
  });

  it('serves /metrics and /queue-depth on METRICS_PORT only, never on the public port', async () => {
    assert.notEqual(new URL(f.url('/')).port, new URL(f.metricsUrl('/')).port);
    for (const path of ['/metrics', '/queue-depth']) {
      assert.equal((await fetch(f.url(path))).status, 404, path);
      assert.equal((await fetch(f.metricsUrl(path))).status, 200, path);
    }
  });

  it('counts webhooks received and refused by reason, and jobs by state, in /metrics', async () => {
    const before = await (await fetch(f.metricsUrl('/metrics'))).text();
    assert.equal((await fetch(f.webhookUrl(), form({ uuid: 'ShfFXnXeAiHoB8U4uFJQS3', status: '3' }))).status, 200);
    assert.equal((await fetch(f.webhookUrl(), form({ uuid: 'bad' }))).status, 400);
    assert.equal((await fetch(f.webhookUrl('wrong-secret-0123456789'), form({}))).status, 404);
    // The queue figures are cached for a second.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(f.metricsUrl('/metrics'));
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const after = await res.text();
    const delta = (name: string, labels: string) => metric(after, name, labels) - metric(before, name, labels);
    assert.equal(delta('auphonic_bridge_webhooks_received_total', 'route="production"'), 3);
    assert.equal(delta('auphonic_bridge_webhooks_refused_total', 'reason="bad_request"'), 1);
    assert.equal(delta('auphonic_bridge_webhooks_refused_total', 'reason="unknown_secret_or_connection"'), 1);
    assert.equal(metric(after, 'auphonic_bridge_queue_jobs', 'state="waiting"'), 1);
    assert.equal(metric(after, 'auphonic_bridge_queue_runnable_jobs', 'queue="productions"'), 1);
    assert.match(after, /process_resident_memory_bytes/);
  });

  it("logs each refused request in one line, by its route (never the URL's secret), with its code, and every accepted webhook's uuid", async () => {
    const before = f.logs.lines.length;
    assert.equal((await fetch(f.webhookUrl(), form({ uuid: 'ShfFXnXeAiHoB8U4uFJQS4', status: '3' }))).status, 200);
    assert.equal((await fetch(f.webhookUrl('wrong-secret-0123456789'), form({}))).status, 404);
    const bad = await fetch(f.webhookUrl(), form({ uuid: 'not a uuid', status: '3' }));
    assert.equal(bad.status, 400);
    const badReason = ((await bad.json()) as { message: string }).message;
    assert.equal((await fetch(f.url('/livez'))).status, 200);
    // Other routes' lines are written once the answer has gone: give the response's 'finish' a moment.
    await new Promise((r) => setTimeout(r, 50));
    const records = f.logs.records().slice(before);
    const answered = records.filter((r) => r.statusCode !== undefined);
    assert.deepEqual(
      answered.map((r) => [r.msg, r.route, r.statusCode, r.code, r.reason]),
      [
        ['request completed', '/webhooks/auphonic/:secret', 404, 'ERR_NOT_FOUND', 'no such webhook'],
        ['request completed', '/webhooks/auphonic/:secret', 400, 'ERR_BAD_WEBHOOK', badReason],
        ['request completed', '/livez', 200, undefined, undefined],
      ],
    );
    assert.ok(answered.every((r) => typeof r.reqId === 'string' && typeof r.ms === 'number'));
    // The refusal's own warning carries the same request id as its line.
    const refused = records.find((r) => r.msg === 'webhook with an unknown secret refused');
    assert.equal(refused?.reqId, answered[0]?.reqId);
    assert.equal(new Set(answered.map((r) => r.reqId)).size, 3);
    const queued = records.filter((r) => r.msg === 'production webhooks queued');
    assert.deepEqual(
      queued.map((r) => [r.count, r.webhooks]),
      [[1, [{ uuid: 'ShfFXnXeAiHoB8U4uFJQS4', reportedStatus: 3 }]]],
    );
    assert.ok(!records.some((r) => JSON.stringify(r).includes('wrong-secret')), 'no URL is logged');
  });

  it('logs every accepted webhook of a burst once, in lines that each give their count', async () => {
    const before = f.logs.lines.length;
    const uuids = Array.from({ length: 60 }, (_, i) => `BatchLog${String(i).padStart(14, '0')}`);
    const answers = await Promise.all(uuids.map((uuid) => fetch(f.webhookUrl(), form({ uuid, status: '3' }))));
    assert.deepEqual(
      answers.map((a) => a.status),
      uuids.map(() => 200),
    );
    const queued = f.logs
      .records()
      .slice(before)
      .filter((r) => r.msg === 'production webhooks queued');
    const logged = queued.flatMap((r) => (r.webhooks as { uuid: string }[]).map((w) => w.uuid));
    assert.deepEqual([...logged].sort(), [...uuids].sort(), 'every accepted uuid, once');
    assert.ok(queued.every((r) => r.count === (r.webhooks as unknown[]).length));
  });

  it('reports the runnable queue depth for autoscaling, 0 while the queue is paused', async () => {
    await f.queue.obliterate({ force: true });
    for (const uuid of ['AAAAAAAAAAAAAAAAAAAAA1', 'AAAAAAAAAAAAAAAAAAAAA2']) await fetch(f.webhookUrl(), form({ uuid, status: '3' }));
    const depth = async () => {
      await new Promise((r) => setTimeout(r, 1100));
      return ((await (await fetch(f.metricsUrl('/queue-depth'))).json()) as { queues: Record<string, unknown> }).queues.productions;
    };
    assert.deepEqual(await depth(), { waiting: 2, prioritized: 0, paused: false, rateLimited: false, runnable: 2 });
    await f.queue.pause();
    assert.deepEqual(await depth(), { waiting: 2, prioritized: 0, paused: true, rateLimited: false, runnable: 0 });
    await f.queue.resume();
  });

  it('a scrape storm costs Redis one read of the queues per second', async () => {
    const redis = new Redis(f.redis.url.toString());
    try {
      const calls = async (command: string) => {
        const line = (await redis.info('commandstats')).split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:`));
        return Number(line?.match(/calls=(\d+)/)?.[1] ?? 0);
      };
      await new Promise((r) => setTimeout(r, 1100));
      const before = await calls('client|list');
      const started = Date.now();
      const storm = Array.from({ length: 100 }, (_, i) => fetch(f.metricsUrl(i % 2 ? '/metrics' : '/queue-depth')));
      for (const res of await Promise.all(storm)) assert.equal(res.status, 200);
      const seconds = Math.ceil((Date.now() - started) / 1000);
      // CLIENT LIST (the workers gauge) is the costly one: once per read, and a read per second.
      assert.ok((await calls('client|list')) - before <= seconds, `${(await calls('client|list')) - before} reads in ${seconds} s`);
    } finally {
      redis.disconnect();
    }
  });
});
