// Telling the host's system: every production recorded for good is POSTed, Standard Webhooks style,
// and checked here with the reference library (standardwebhooks), not with our own code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addNotification, addProductionJob, createNotificationQueue } from '@auphonic-bridge/queue';
import { guardedLookup } from '@auphonic-bridge/runtime';
import { spawnService, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { bytes, connectUser, startFixture, type WorkerFixture } from './helpers.ts';

const NEW = `whsec_${randomBytes(32).toString('base64')}`;
const OLD = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  headers: Record<string, string>;
  body: string;
  verifiedWith: string[];
}

/** The host's endpoint: keeps what it got; `answer` decides the status of each delivery. */
async function receiver(answer: (n: number) => number | Promise<number> = () => 204) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const verifiedWith = Object.entries({ NEW, OLD }).flatMap(([name, secret]) => {
        try {
          new Webhook(secret).verify(body, headers);
          return [name];
        } catch {
          return [];
        }
      });
      received.push({ headers, body, verifiedWith });
      res.writeHead(await answer(received.length)).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/bridge`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('notifications to the host (Standard Webhooks, checked with the reference library)', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('announces a stored production, signed with NOTIFY_SECRET and NOTIFY_SECRET_PREVIOUS, with every file', async () => {
    const host = await receiver();
    const worker = await f.startWorker({
      NOTIFY_URL: host.url,
      NOTIFY_SECRET: NEW,
      NOTIFY_SECRET_PREVIOUS: OLD,
      NOTIFY_ALLOW_PRIVATE: 'true',
    });
    try {
      const p = await f.sim.addProduction({
        metadata: { title: 'Folge 7' },
        files: [{ filename: 'episode.mp3', content: bytes(5000, 3) }],
      });
      assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
      const [event] = await waitFor(() => (host.received.length > 0 ? host.received : null), 'the notification');
      assert.deepEqual(event?.verifiedWith, ['NEW', 'OLD'], 'either secret verifies during a rotation');
      assert.equal(event?.headers['webhook-signature']?.split(' ').length, 2);
      assert.match(event?.headers['webhook-id'] ?? '', /^msg_[0-9a-f]{32}$/);
      const body = JSON.parse(event?.body ?? '{}');
      assert.equal(body.type, 'production.stored');
      assert.equal(body.data.uuid, p.uuid);
      assert.equal(body.data.title, 'Folge 7');
      assert.equal(body.data.outcome, 'complete');
      assert.deepEqual(
        body.data.files.map((x: { filename: string; size: number; key: string }) => [x.filename, x.size, x.key]),
        [['episode.mp3', 5000, `account/${p.uuid}/episode.mp3`]],
      );
      assert.match(body.data.files[0].md5, /^[0-9a-f]{32}$/);
      assert.ok(!event?.body.includes(NEW.slice(6)) && !JSON.stringify(event?.headers).includes(NEW.slice(6)), 'no secret travels');
      // The same webhook again: nothing new for the host.
      assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'unchanged');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(host.received.length, 1);
    } finally {
      await worker.destroy();
      await host.close();
    }
  });

  it('delivers again after a failure with the same webhook-id and body, and stops at 410 Gone', async () => {
    const host = await receiver((n) => (n === 1 ? 503 : 204));
    const gone = await receiver(() => 410);
    const worker = await f.startWorker({ NOTIFY_URL: host.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true' });
    try {
      const p = await f.sim.addProduction({ files: [{ filename: 'a.mp3', content: bytes(100, 4) }] });
      await f.settled(await f.enqueue(p.uuid));
      await waitFor(() => host.received.length >= 2, 'the redelivery', 30_000);
      const [first, second] = host.received;
      assert.equal(first?.headers['webhook-id'], second?.headers['webhook-id'], 'the same event: the receiver can drop the second');
      assert.equal(first?.body, second?.body);
      assert.deepEqual(second?.verifiedWith, ['NEW']);
      await worker.destroy();

      const towardGone = await f.startWorker({ NOTIFY_URL: gone.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true' });
      try {
        const q = await f.sim.addProduction({ files: [{ filename: 'b.mp3', content: bytes(100, 5) }] });
        await f.settled(await f.enqueue(q.uuid));
        await waitFor(() => gone.received.length >= 1, 'the delivery to the gone endpoint');
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(gone.received.length, 1, 'no retry after 410');
      } finally {
        await towardGone.destroy();
      }
    } finally {
      await host.close();
      await gone.close();
    }
  });

  it("sends a connection's events to its own notify URL, the others to NOTIFY_URL", async () => {
    const account = await receiver();
    const own = await receiver();
    const KEY = Buffer.alloc(32, 12);
    const { redis, store, connectionId, userId } = await connectUser(f, KEY, 'notified');
    await store.update(connectionId, { notifyUrl: own.url });
    const worker = await f.startWorker({
      NOTIFY_URL: account.url,
      NOTIFY_SECRET: NEW,
      NOTIFY_ALLOW_PRIVATE: 'true',
      ENCRYPTION_KEY: KEY.toString('hex'),
    });
    try {
      const p = await f.sim.addProduction({ owner: userId, files: [{ filename: 'd.mp3', content: bytes(100, 20) }] });
      const job = await addProductionJob(f.queue, {
        uuid: p.uuid,
        owner: { kind: 'connection', id: connectionId },
        reportedStatus: 3,
        customData: { show: 9 },
      });
      assert.equal((await f.settled(job)).state, 'completed');
      const [event] = await waitFor(() => (own.received.length > 0 ? own.received : null), "the connection's notification");
      const body = JSON.parse(event?.body ?? '{}');
      assert.deepEqual([body.data.owner, body.data.custom_data], [{ kind: 'connection', id: connectionId }, { show: 9 }]);
      assert.equal(account.received.length, 0);
    } finally {
      await worker.destroy();
      redis.disconnect();
      await account.close();
      await own.close();
    }
  });

  it('announces partial and error outcomes as such', async () => {
    const host = await receiver();
    const worker = await f.startWorker({ NOTIFY_URL: host.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true' });
    try {
      const partial = await f.sim.addProduction({
        files: [
          { filename: 'ok.mp3', content: bytes(100, 6) },
          { filename: '../bad.mp3', content: bytes(100, 7) },
        ],
      });
      const failed = await f.sim.addProduction({ status: 2, files: [{ filename: 'x.mp3', content: bytes(10, 8) }] });
      await f.settled(await f.enqueue(partial.uuid));
      await f.settled(await f.enqueue(failed.uuid, 2));
      await waitFor(() => host.received.length >= 2, 'both notifications');
      const types = Object.fromEntries(host.received.map((r) => JSON.parse(r.body)).map((b) => [b.data.uuid, b.type]));
      assert.deepEqual(types, { [partial.uuid]: 'production.partial', [failed.uuid]: 'production.error' });
    } finally {
      await worker.destroy();
      await host.close();
    }
  });

  it('records and announces a job BullMQ failed without running it (stalled past maxStalledCount)', async () => {
    const host = await receiver();
    const p = await f.sim.addProduction({ files: [{ filename: 'stalled.mp3', content: bytes(100, 9) }] });
    const job = await f.enqueue(p.uuid);
    // What BullMQ's moveStalledJobsToWait writes on a job past maxStalledCount (its worker killed 5 times
    // over): a deferred failure, which the next worker's take fails with, the processor never called.
    const redis = new Redis(f.redis.url.toString());
    await redis.hset(`${f.redis.prefix}:productions:${job.id}`, 'defa', 'job stalled more than allowable limit');
    redis.disconnect();
    const worker = await f.startWorker({ NOTIFY_URL: host.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true' });
    try {
      const end = await f.settled(job);
      assert.equal(end.state, 'failed');
      assert.equal(f.detailCalls(p.uuid), 0, 'the processor never ran');
      const record = await waitFor(
        () => readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8').catch(() => null),
        'the record',
      );
      const bridge = JSON.parse(record).bridge;
      assert.deepEqual([bridge.outcome, bridge.final, bridge.error?.code], ['error', true, 'ERR_JOB_STALLED']);
      assert.match(bridge.error.message, /stalled/);
      await waitFor(() => host.received.length >= 1, 'the notification');
      const event = JSON.parse(host.received[0]?.body ?? '{}');
      assert.deepEqual([event.type, event.data.uuid, event.data.error?.code], ['production.error', p.uuid, 'ERR_JOB_STALLED']);
    } finally {
      await worker.destroy();
      await host.close();
    }
  });

  it("keeps a receiver that stopped answering to one attempt at a time: the other receivers' events do not wait behind its backlog", async () => {
    // The connection's receiver takes requests and answers none until told to; `atArrival` is how many of its requests were open as each came.
    let answering = false;
    const open = new Set<ServerResponse>();
    const atArrival: number[] = [];
    const answered: string[] = [];
    const stuck = createServer((req, res) => {
      req.resume();
      if (answering) {
        answered.push(String(req.headers['webhook-id']));
        return void res.writeHead(204).end();
      }
      open.add(res);
      atArrival.push(open.size);
      res.on('close', () => open.delete(res));
    });
    stuck.listen(0, '127.0.0.1');
    await once(stuck, 'listening');
    const account = await receiver();
    const KEY = Buffer.alloc(32, 14);
    const { redis, store, connectionId } = await connectUser(f, KEY, 'stuck');
    await store.update(connectionId, { notifyUrl: `http://127.0.0.1:${(stuck.address() as { port: number }).port}/hook?token=abc` });
    const notifications = createNotificationQueue(redis, { prefix: f.redis.prefix });
    const event = (id: string, owner: { kind: 'account' } | { kind: 'connection'; id: string }) =>
      addNotification(notifications, { id, type: 'production.stored', owner, body: JSON.stringify({ id }) });
    // The stuck receiver's backlog first, in the queue's order.
    for (let i = 0; i < 10; i++) await event(`msg_stuck${i}`, { kind: 'connection', id: connectionId });
    for (let i = 0; i < 4; i++) await event(`msg_account${i}`, { kind: 'account' });
    const worker = await f.startWorker({
      NOTIFY_URL: account.url,
      NOTIFY_SECRET: NEW,
      NOTIFY_ALLOW_PRIVATE: 'true',
      NOTIFY_CONCURRENCY: '2',
      NOTIFY_TIMEOUT_MS: '400',
      ENCRYPTION_KEY: KEY.toString('hex'),
    });
    try {
      await waitFor(() => account.received.length >= 4, "the account's events", 20_000);
      // Both slots took the stuck receiver's first two; after their timeouts, one of its events at a time.
      // Without the gate all ten (two at a time) came before any of the account's.
      assert.ok(atArrival.length <= 5, `the stuck receiver got ${atArrival.length} attempts before the others' events went out`);
      assert.deepEqual(
        atArrival.slice(2).filter((n) => n > 1),
        [],
        `open requests at the stuck receiver as each came: ${atArrival.join(', ')}`,
      );
      assert.match(f.logs.text, /notification receiver not answering in time/);
      assert.ok(!f.logs.text.includes('token=abc'), "the receiver's URL beyond its origin is not logged");
      // It answers again: its put-off events all go out.
      answering = true;
      await waitFor(() => new Set(answered).size >= 10, "the stuck receiver's events once it answers", 30_000);
      assert.match(f.logs.text, /notification receiver answering again/);
    } finally {
      await worker.destroy();
      await notifications.close();
      redis.disconnect();
      for (const res of open) res.destroy();
      stuck.close();
      await account.close();
    }
  });

  it('gives a notification retried by hand (the dashboard) NOTIFY_RETRY_FOR anew, not a single attempt on a spent budget', async () => {
    // 503 until `okFrom` requests have come.
    let okFrom = Number.POSITIVE_INFINITY;
    const host = await receiver((n) => (n >= okFrom ? 204 : 503));
    const redis = new Redis(f.redis.url.toString());
    const notifications = createNotificationQueue(redis, { prefix: f.redis.prefix });
    const worker = await f.startWorker({ NOTIFY_URL: host.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true', NOTIFY_RETRY_FOR: '1s' });
    try {
      const job = await addNotification(notifications, {
        id: 'msg_by_hand',
        type: 'production.stored',
        owner: { kind: 'account' },
        body: '{}',
      });
      await waitFor(
        async () => (await notifications.getJobState(job.id as string)) === 'failed',
        'the notification to be given up',
        20_000,
      );
      // Retried by hand after RETRY_FOR: the receiver refuses once more, then takes it.
      okFrom = host.received.length + 2;
      await (await notifications.getJob(job.id as string))?.retry('failed');
      await waitFor(async () => (await notifications.getJobState(job.id as string)) !== 'waiting', 'the retry to start');
      const state = await waitFor(
        async () => {
          const s = await notifications.getJobState(job.id as string);
          return s === 'completed' || s === 'failed' ? s : null;
        },
        'the retried notification to settle',
        20_000,
      );
      assert.equal(state, 'completed', 'it rode out a 503 after the retry');
      assert.equal(host.received.length, okFrom);
      // Its window was opened once, at the first take after the retry, not again at the next.
      const opened = f.logs.records().filter((l) => l.notification === 'msg_by_hand' && String(l.msg).startsWith('retried by hand'));
      assert.equal(opened.length, 1);
      const done = await notifications.getJob(job.id as string);
      assert.deepEqual([typeof done?.data.retriedAt, done?.data.gaveUpAt], ['number', undefined]);
    } finally {
      await worker.destroy();
      await notifications.close();
      redis.disconnect();
      await host.close();
    }
  });

  it('never holds up downloads: a receiver that takes its time delays nothing', async () => {
    const host = await receiver(() => new Promise((r) => setTimeout(() => r(204), 8000)));
    const worker = await f.startWorker({ NOTIFY_URL: host.url, NOTIFY_SECRET: NEW, NOTIFY_ALLOW_PRIVATE: 'true' });
    try {
      const started = Date.now();
      for (let i = 0; i < 3; i++) {
        const p = await f.sim.addProduction({ files: [{ filename: 'c.mp3', content: bytes(100, 10 + i) }] });
        assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
      }
      assert.ok(Date.now() - started < 6000, `three productions stored in ${Date.now() - started} ms, the receiver taking 8 s each`);
    } finally {
      await worker.destroy();
      await host.close();
    }
  });

  it('refuses a loopback or private NOTIFY_URL at start unless NOTIFY_ALLOW_PRIVATE=true, naming the setting (SSRF)', async () => {
    const worker = spawnService('worker', { ...f.env, NOTIFY_URL: 'http://127.0.0.1:9/x', NOTIFY_SECRET: NEW });
    assert.equal(await worker.exited, 78);
    assert.match(worker.output(), /NOTIFY_URL: points at a loopback, private or link-local address/);
    const noSecret = spawnService('worker', { ...f.env, NOTIFY_URL: 'https://host.example/hook' });
    assert.equal(await noSecret.exited, 78);
    assert.match(noSecret.output(), /NOTIFY_SECRET: is required with NOTIFY_URL/);
  });

  it('refuses, when connecting, a name that resolves to a loopback address (DNS rebinding)', async () => {
    const lookup = guardedLookup({ allowPrivate: false });
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    assert.equal(err?.code, 'ERR_OUTBOUND_URL');
    const allowed = guardedLookup({ allowPrivate: true });
    const ok = await new Promise<string>((resolve) => allowed('localhost', {}, (_e, address) => resolve(String(address))));
    assert.match(ok, /^(127\.|::1)/);
  });
});
