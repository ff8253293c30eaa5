import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { form, type IngressFixture, startIngress } from './helpers.ts';

const metric = (text: string, name: string, labels: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('ingress operations endpoints', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress();
  });
  after(() => f.close());

  it('answers /livez', async () => {
    assert.deepEqual(await (await fetch(f.url('/livez'))).json(), { status: 'ok' });
  });

  it('counts webhooks received and refused by reason, and jobs by state, in /metrics', async () => {
    const before = await (await fetch(f.url('/metrics'))).text();
    assert.equal((await fetch(f.webhookUrl(), form({ uuid: 'ShfFXnXeAiHoB8U4uFJQS3', status: '3' }))).status, 200);
    assert.equal((await fetch(f.webhookUrl(), form({ uuid: 'bad' }))).status, 400);
    assert.equal((await fetch(f.webhookUrl('wrong-secret-0123456789'), form({}))).status, 404);
    const res = await fetch(f.url('/metrics'));
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

  it('reports the runnable queue depth for autoscaling, 0 while the queue is paused', async () => {
    await f.queue.obliterate({ force: true });
    for (const uuid of ['AAAAAAAAAAAAAAAAAAAAA1', 'AAAAAAAAAAAAAAAAAAAAA2']) await fetch(f.webhookUrl(), form({ uuid, status: '3' }));
    const depth = async () =>
      ((await (await fetch(f.url('/queue-depth'))).json()) as { queues: Record<string, unknown> }).queues.productions;
    assert.deepEqual(await depth(), { waiting: 2, prioritized: 0, paused: false, rateLimited: false, runnable: 2 });
    await f.queue.pause();
    assert.deepEqual(await depth(), { waiting: 2, prioritized: 0, paused: true, rateLimited: false, runnable: 0 });
    await f.queue.resume();
  });
});
