import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuphonicClient } from '@auphonic-bridge/auphonic';
import type { ConnectionStore } from '@auphonic-bridge/connections';
import { addConnectionReconcile, bridgeKeyPrefix, createReconcileQueue } from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { DirectoryDriver } from '@auphonic-bridge/storage';
import { waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { type ReconcileDeps, reconcile, timeOf } from '../src/reconcile.ts';
import { API_KEY, bytes, connectUser, startFixture, type WorkerFixture } from './helpers.ts';

const KEY = Buffer.alloc(32, 9);
const PUBLIC_URL = 'https://bridge.example';
const SECRET = 'our-webhook-secret-0123456789';
const OURS = `${PUBLIC_URL}/webhooks/auphonic/${SECRET}`;

describe('the reconciler: finished productions whose webhook never came', () => {
  let f: WorkerFixture;
  let redis: Redis;
  let store: ConnectionStore;
  let connectionId: string;
  let serviceUuid: string;
  let userId: string;
  before(async () => {
    f = await startFixture();
    // Connected, but without the service uuid (connect.json's answer need not carry it):
    // the reconciler learns it from /api/services.json.
    ({ redis, store, connectionId, userId } = await connectUser(f, KEY, 'podcaster'));
    // Another of the user's services with the same name but not our webhook URL: not ours.
    f.sim.accounts.connectService(userId, { display_name: 'Host', webhook_url: 'https://elsewhere.example/hook', custom_data: null });
    serviceUuid = f.sim.accounts.connectService(userId, {
      display_name: 'Host',
      webhook_url: `${PUBLIC_URL}/webhooks/service/${connectionId}`,
      custom_data: null,
    }).uuid;
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  const stored = (path: string) => readFile(join(f.storageDir, path)).catch(() => null);

  it('stores a missed production within one interval, and leaves every production that is not ours alone', async () => {
    const ours = await f.sim.addProduction({ webhook: OURS, files: [{ filename: 'missed.mp3', content: bytes(2000, 51) }] });
    const otherBridge = await f.sim.addProduction({
      webhook: `${PUBLIC_URL}/webhooks/auphonic/another-bridges-secret-42`,
      files: [{ filename: 'other.mp3', content: bytes(100, 52) }],
    });
    const otherHost = await f.sim.addProduction({
      webhook: `https://other.example/webhooks/auphonic/${SECRET}`,
      files: [{ filename: 'host.mp3', content: bytes(100, 56) }],
    });
    const noWebhook = await f.sim.addProduction({ webhook: null, files: [{ filename: 'none.mp3', content: bytes(100, 57) }] });
    const running = await f.sim.addProduction({ status: 4, webhook: OURS, files: [{ filename: 'later.mp3', content: bytes(10, 53) }] });
    const service = await f.sim.addProduction({
      owner: userId,
      service: serviceUuid,
      files: [{ filename: 'svc.mp3', content: bytes(3000, 54) }],
    });
    const otherService = await f.sim.addProduction({
      owner: userId,
      service: null,
      files: [{ filename: 'private.mp3', content: bytes(10, 55) }],
    });

    const interval = 2000;
    const started = Date.now();
    const worker = await f.startWorker({
      RECONCILE_INTERVAL_MS: String(interval),
      ENCRYPTION_KEY: KEY.toString('hex'),
      PUBLIC_URL,
      WEBHOOK_SECRET: SECRET,
    });
    await waitFor(() => stored(`account/${ours.uuid}/missed.mp3`), 'the missed production to be stored');
    await waitFor(() => stored(`connections/${connectionId}/${service.uuid}/svc.mp3`), "the connection's missed production to be stored");
    assert.ok(Date.now() - started < interval + 3000, `stored ${Date.now() - started} ms after the worker started`);
    assert.deepEqual(await stored(`account/${ours.uuid}/missed.mp3`), bytes(2000, 51));
    assert.equal((await store.get(connectionId))?.serviceUuid, serviceUuid, 'the service uuid was learnt and kept');

    // More rounds: what is stored is not queued again, and what is not ours never is.
    const downloads = f.sim.downloadsStarted(ours.uuid, 'missed.mp3');
    await new Promise((r) => setTimeout(r, interval * 2 + 500));
    assert.equal(f.sim.downloadsStarted(ours.uuid, 'missed.mp3'), downloads);
    for (const p of [otherBridge, otherHost, noWebhook, running, otherService]) {
      assert.deepEqual(
        (await f.listFiles()).filter((x) => x.includes(p.uuid)),
        [],
        p.uuid,
      );
    }
    assert.match(f.logs.text, /queued by the reconciler/);
    const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
    assert.match(metrics, /auphonic_bridge_reconcile_recovered_total\{owner_kind="account"[^}]*\} 1\n/);
    assert.match(metrics, /auphonic_bridge_reconcile_recovered_total\{owner_kind="connection"[^}]*\} 1\n/);
    await worker.destroy();
  });
});

describe('a connection authorised again gets its missed productions (reconcile-connection)', () => {
  let f: WorkerFixture;
  let redis: Redis;
  let connectionId: string;
  let userId: string;
  before(async () => {
    f = await startFixture();
    ({ redis, connectionId, userId } = await connectUser(f, KEY, 'returning'));
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('stores what finished while it needed re-authorisation, on the job the ingress adds', async () => {
    const serviceUuid = f.sim.accounts.connectService(userId, {
      display_name: 'Host',
      webhook_url: `${PUBLIC_URL}/webhooks/service/${connectionId}`,
      custom_data: null,
    }).uuid;
    const missed = await f.sim.addProduction({
      owner: userId,
      service: serviceUuid,
      files: [{ filename: 'missed.mp3', content: bytes(900, 58) }],
    });
    // No scheduled rounds here: only the job the ingress adds after a re-authorisation.
    await f.startWorker({ ENCRYPTION_KEY: KEY.toString('hex'), RECONCILE_INTERVAL_MS: '0' });
    const queue = createReconcileQueue(redis, { prefix: f.redis.prefix });
    try {
      await addConnectionReconcile(queue, connectionId);
      await waitFor(
        () => readFile(join(f.storageDir, `connections/${connectionId}/${missed.uuid}/missed.mp3`)).catch(() => null),
        'the missed production to be stored',
      );
    } finally {
      await queue.close();
    }
  });
});

describe('the reconciler walks every page since its watermark', () => {
  let f: WorkerFixture;
  let redis: Redis;
  let deps: ReconcileDeps;
  const log = createLogger({ service: 'test', level: 'silent' });
  before(async () => {
    f = await startFixture();
    redis = new Redis(f.redis.url.toString());
    const client = new AuphonicClient({ baseUrl: f.sim.baseUrl, token: API_KEY });
    deps = {
      credentials: async () => ({ client, rejected: async () => {} }),
      hasAccount: true,
      accountWebhookUrls: [OURS],
      connections: null,
      storage: new DirectoryDriver(f.storageDir),
      queue: f.queue,
      redis,
      keyPrefix: bridgeKeyPrefix(f.redis),
      pageSize: 100,
      lookbackMs: 7 * 86_400_000,
    };
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('finds all of 500 finished productions with a page size of 100, and each only once', async () => {
    const old = new Date(Date.now() - 10 * 86_400_000);
    await f.sim.addProduction({ webhook: OURS, createdAt: old, files: [{ filename: 'old.mp3', content: bytes(10, 1) }] });
    for (let i = 0; i < 500; i++) await f.sim.addProduction({ webhook: OURS, files: [{ filename: 'a.mp3', content: bytes(10, i) }] });
    const first = await reconcile(deps, log);
    assert.equal(first.queued, 500);
    assert.ok(first.pages >= 6, `${first.pages} pages`);
    assert.equal(await f.queue.count(), 500, 'the one older than RECONCILE_LOOKBACK is not looked at');
    const again = await reconcile(deps, log);
    assert.equal(again.queued, 0, 'on their way already: not queued twice');
  });

  it('misses none when the API serves fewer a page than RECONCILE_LIMIT asks', async () => {
    const before = await f.queue.count();
    for (let i = 0; i < 120; i++) await f.sim.addProduction({ webhook: OURS, files: [{ filename: 'c.mp3', content: bytes(10, 200 + i) }] });
    // An Auphonic that caps its pages at 50 (its cap is undocumented).
    class Capped extends AuphonicClient {
      override listProductions(opts: { limit: number; offset: number; signal?: AbortSignal }) {
        return super.listProductions({ ...opts, limit: Math.min(opts.limit, 50) });
      }
    }
    const capped = new Capped({ baseUrl: f.sim.baseUrl, token: API_KEY });
    const report = await reconcile({ ...deps, credentials: async () => ({ client: capped, rejected: async () => {} }) }, log);
    assert.equal(report.queued, 120);
    assert.equal(await f.queue.count(), before + 120);
  });

  it('says which owner it could not walk (for the skipped metric), and keeps its watermark', async () => {
    const down = new AuphonicClient({
      baseUrl: new URL('http://127.0.0.1:9'),
      token: API_KEY,
      retries: { retries: 0, baseMs: 1, maxMs: 1, retryAfterCapMs: 1 },
    });
    const skipped: unknown[] = [];
    const key = `${bridgeKeyPrefix(f.redis)}reconcile:since:account`;
    const before = await redis.get(key);
    const report = await reconcile(
      { ...deps, credentials: async () => ({ client: down, rejected: async () => {} }), onSkipped: (owner) => skipped.push(owner) },
      log,
    );
    assert.equal(report.skipped, 1);
    assert.deepEqual(skipped, [{ kind: 'account' }]);
    assert.equal(await redis.get(key), before);
  });

  const DAY = 86_400_000;
  /** Ours, created `ago` ms ago, still running. */
  const runningSince = (ago: number, seed: number) =>
    f.sim.addProduction({
      status: 4,
      webhook: OURS,
      createdAt: new Date(Date.now() - ago),
      files: [{ filename: 'late.mp3', content: bytes(10, seed) }],
    });

  it('finds a production created before a page of newer quiet ones that finishes later (the list is by creation)', async () => {
    const before = await f.queue.count();
    const late = await runningSince(3 * DAY, 1);
    // A full page of newer productions, not ours, that change no more.
    for (let i = 0; i < 100; i++) {
      await f.sim.addProduction({
        webhook: null,
        createdAt: new Date(Date.now() - 2 * DAY),
        files: [{ filename: 'x.mp3', content: bytes(10, i) }],
      });
    }
    await reconcile(deps, log);
    assert.equal(await f.queue.count(), before, 'still running: nothing to queue');
    // It finishes now, and its webhook never comes.
    await f.sim.updateProduction(late.uuid, { status: 3 });
    const round = await reconcile(deps, log);
    assert.equal(round.queued, 1);
    assert.equal(await f.queue.count(), before + 1);
    assert.ok(await f.queue.getDeduplicationJobId(`account-${late.uuid}`), 'its job is queued');
  });

  it('without change_time in the list (minimal_data may leave it out), finds one created before the watermark that finished since', async () => {
    const before = await f.queue.count();
    const late = await runningSince(3 * DAY, 2);
    const done = await f.sim.addProduction({ webhook: OURS, createdAt: new Date(Date.now() - 3 * DAY), files: [] });
    const foreign: string[] = [];
    for (let i = 0; i < 20; i++)
      foreign.push((await f.sim.addProduction({ webhook: null, createdAt: new Date(Date.now() - 3 * DAY), files: [] })).uuid);
    // A skinnier minimal_data than the simulator's: what clients are known to read, no more.
    const detailsOf: string[] = [];
    class Skinny extends AuphonicClient {
      override async listProductions(opts: { limit: number; offset: number; signal?: AbortSignal }) {
        return (await super.listProductions(opts)).map(({ uuid, status_string, creation_time, metadata }) => ({
          uuid,
          status_string,
          creation_time,
          metadata,
        })) as Awaited<ReturnType<AuphonicClient['listProductions']>>;
      }
      override getProduction(uuid: string, opts?: { signal?: AbortSignal }) {
        detailsOf.push(uuid);
        return super.getProduction(uuid, opts);
      }
    }
    const skinny = {
      ...deps,
      credentials: async () => ({ client: new Skinny({ baseUrl: f.sim.baseUrl, token: API_KEY }), rejected: async () => {} }),
    };
    await reconcile(skinny, log);
    const queued = await f.queue.getDeduplicationJobId(`account-${done.uuid}`);
    assert.ok(queued, 'the finished one is queued');
    assert.equal(await f.queue.count(), before + 1, 'the running one is not, nor one created before RECONCILE_LOOKBACK');
    // The finished one is recorded for good meanwhile (as its worker would).
    await deps.storage.writeJson(`account/${done.uuid}/auphonic-production.json`, {
      bridge: { version: 2, uuid: done.uuid, owner: { kind: 'account' }, final: true, outcome: 'complete', outputs: [], files: [] },
    });
    await (await f.queue.getJob(queued))?.remove();
    await f.sim.updateProduction(late.uuid, { status: 3 });
    detailsOf.length = 0;
    const round = await reconcile(skinny, log);
    assert.equal(round.queued, 1);
    assert.ok(await f.queue.getDeduplicationJobId(`account-${late.uuid}`), 'the late one is queued');
    assert.ok(!detailsOf.includes(done.uuid), 'one recorded for good is not fetched again each round');
    assert.deepEqual(
      foreign.filter((uuid) => detailsOf.includes(uuid)),
      [],
      'nor one found not ours',
    );
  });
});

describe("the reconciler's reading of Auphonic's times", () => {
  it('takes a time without a zone (as in the API docs) for UTC, whatever the machine is set to', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
    try {
      assert.equal(timeOf('2012-05-15T13:10:47.105'), Date.UTC(2012, 4, 15, 13, 10, 47, 105));
      assert.equal(timeOf('2026-11-30T09:15:00Z'), Date.UTC(2026, 10, 30, 9, 15));
      assert.equal(timeOf('2026-11-30T10:15:00+01:00'), Date.UTC(2026, 10, 30, 9, 15));
      assert.equal(timeOf('not a time'), null);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
