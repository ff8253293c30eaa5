// One delivery against receivers that misbehave after their status line: the status decides, the body is never read.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import type { NotificationJobData } from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { redisSpace, type TestRedisSpace, waitFor } from '@auphonic-bridge/testing';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createDeliveryProcessor } from '../src/notify/deliver.ts';
import { putOffMs } from '../src/notify/receiver-gate.ts';

const MiB = 1 << 20;

/** The delivery processor as the worker makes it, and one event's job for it. */
function oneDelivery(url: URL, connections: ConnectionStore | null, id: string, owner: NotificationJobData['owner']) {
  const deliver = createDeliveryProcessor({
    settings: { url, keys: [Buffer.alloc(32, 1)], allowPrivate: true, retryForMs: 86_400_000, timeoutMs: 1_000, concurrency: 1 },
    connections,
    log: createLogger({ service: 'test', level: 'silent' }),
  });
  const job = { data: { id, type: 'production.stored', owner, body: '{}' }, timestamp: Date.now() } as unknown as Job<NotificationJobData>;
  return { deliver, job };
}

describe('a notification whose receiver answers 200, then', () => {
  const answers: Record<string, (res: ServerResponse) => void> = {
    // A byte every half second, for ever: each byte restarts an idle timeout.
    trickles: (res) => {
      const timer = setInterval(() => res.write('x'), 500);
      res.on('close', () => clearInterval(timer));
      res.write('x');
    },
    // 256 MiB as fast as it goes.
    floods: (res) => {
      const chunk = Buffer.alloc(MiB, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 256 && !res.destroyed) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    },
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      answers[req.url?.slice(1) ?? '']?.(res);
    });
  });
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  for (const how of Object.keys(answers)) {
    it(`${how}: is delivered at its status, its body not waited for nor held`, async () => {
      const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/${how}`);
      const { deliver, job } = oneDelivery(url, null, 'msg_misbehaving', { kind: 'account' });
      const rss = process.memoryUsage().rss;
      const started = Date.now();
      const outcome = await Promise.race([
        deliver(job),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000).unref()),
      ]);
      assert.deepEqual(outcome, { status: 200 }, `after ${Date.now() - started} ms`);
      const grew = (process.memoryUsage().rss - rss) / MiB;
      assert.ok(grew < 64, `the worker's memory grew ${grew.toFixed(0)} MiB`);
    });
  }
});

describe('a notification whose receiver answers 503 with Retry-After', () => {
  it("is tried again no sooner than the receiver asked (the backoff honours the error's retryAfterMs)", async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(503, { 'retry-after': '120' }).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/busy`);
      const { deliver, job } = oneDelivery(url, null, 'msg_busy', { kind: 'account' });
      const err = await deliver(job).then(
        () => null,
        (e: unknown) => e,
      );
      assert.match(String(err), /HTTP 503/);
      assert.equal((err as { retryAfterMs?: number }).retryAfterMs, 120_000);
    } finally {
      server.close();
    }
  });
});

describe("a connection's notification once the connection is deleted", () => {
  let space: TestRedisSpace;
  let redis: Redis;
  before(async () => {
    space = await redisSpace();
    redis = new Redis(space.url.toString());
  });
  after(async () => {
    redis.disconnect();
    await space.close();
  });

  it("is dropped, not sent to the account's NOTIFY_URL", async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests += 1;
      req.resume();
      res.writeHead(204).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/account`);
      const { deliver, job } = oneDelivery(
        url,
        new ConnectionStore(redis, new Sealer(Buffer.alloc(32, 7)), { keyPrefix: `${space.prefix}:bridge:` }),
        'msg_deleted',
        { kind: 'connection', id: 'DeletedConnectionXXXXX' },
      );
      assert.deepEqual(await deliver(job), { status: 0 });
      assert.equal(requests, 0);
    } finally {
      server.close();
    }
  });
});

describe('events of a receiver that stopped answering', () => {
  it('are put off for about as long as it has been silent: a timeout at least, an hour at most', () => {
    assert.equal(putOffMs(0, 15_000, 0.5), 15_000);
    assert.equal(putOffMs(10 * 60_000, 15_000, 0.5), 10 * 60_000);
    assert.equal(putOffMs(5 * 3_600_000, 15_000, 0.5), 3_600_000);
    assert.equal(putOffMs(0, 15_000, 0), 7_500, 'jittered');
  });

  it("get an attempt of their own at their last chance, never given up untried while another one's is in flight", async () => {
    // Silent for its first two requests (held open), then it answers.
    let requests = 0;
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      requests += 1;
      req.resume();
      if (requests <= 2) return void held.push(res);
      res.writeHead(204).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`);
      const deliver = createDeliveryProcessor({
        settings: { url, keys: [Buffer.alloc(32, 1)], allowPrivate: true, retryForMs: 60_000, timeoutMs: 300, concurrency: 2 },
        connections: null,
        log: createLogger({ service: 'test', level: 'silent' }),
      });
      const job = (id: string, age: number) =>
        ({
          data: { id, type: 'production.stored', owner: { kind: 'account' }, body: '{}' },
          timestamp: Date.now() - age,
        }) as unknown as Job<NotificationJobData>;
      // The first times out: the receiver is unresponsive. The second is its one attempt in flight.
      await assert.rejects(deliver(job('msg_first', 0)), /no answer/);
      const second = deliver(job('msg_second', 0)).catch((err: unknown) => err);
      await waitFor(() => requests >= 2, 'the second attempt in flight');
      // The third is past NOTIFY_RETRY_FOR: tried now, not put off nor given up untried.
      assert.deepEqual(await deliver(job('msg_last', 120_000)), { status: 204 });
      assert.equal(requests, 3);
      await second;
    } finally {
      for (const res of held) res.destroy();
      server.close();
    }
  });
});
