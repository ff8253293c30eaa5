// The delivery guarantee under injected faults: every finished production ends up stored and verified,
// or recorded with exactly why not. Real redis-server, the Auphonic simulator over loopback, real files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ConnectionStore } from '@auphonic-bridge/connections';
import { addProductionJob, productionDedupId } from '@auphonic-bridge/queue';
import { waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { bytes, connectUser, startFixture, type WorkerFixture } from './helpers.ts';

describe('delivery: each output meets its own fate', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
    // A retry after half a second or more: time enough to read the record the first attempt wrote.
    await f.startWorker({ RETRY_BASE_DELAY_MS: '1000', RETRY_MAX_DELAY_MS: '2000' });
  });
  after(() => f.close());

  const stored = (uuid: string, name: string) => readFile(join(f.storageDir, 'account', uuid, name));
  const record = async (uuid: string) => JSON.parse((await stored(uuid, 'auphonic-production.json')).toString('utf8'));

  it('stores the good outputs of a production with bad ones, and records each fate with its reason', async () => {
    const mp3 = bytes(40_000, 61);
    const srt = bytes(500, 62);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'episode.mp3', content: mp3 },
        { filename: 'Folge 1 – Über.srt', content: srt },
        { filename: '../escape.flac', content: bytes(10) },
        { filename: 'elsewhere.m4a', content: bytes(10), downloadUrl: 'http://127.0.0.2:9/api/download/audio-result/x/elsewhere.m4a' },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'partial');
    assert.equal(f.detailCalls(p.uuid), 1, 'refusals are for good: no retry');
    assert.deepEqual(await stored(p.uuid, 'episode.mp3'), mp3);
    assert.deepEqual(await stored(p.uuid, 'Folge 1 – Über.srt'), srt);
    const r = await record(p.uuid);
    assert.equal(r.bridge.outcome, 'partial');
    assert.equal(r.bridge.final, true);
    assert.deepEqual(
      r.bridge.outputs.map((o: { filename: string; fate: string; code?: string }) => [o.filename, o.fate, o.code ?? null]),
      [
        ['episode.mp3', 'stored', null],
        ['Folge 1 – Über.srt', 'stored', null],
        ['../escape.flac', 'refused', 'ERR_UNSAFE_OUTPUT'],
        ['elsewhere.m4a', 'refused', 'ERR_DOWNLOAD_FOREIGN_HOST'],
      ],
    );
    assert.ok(r.bridge.outputs.filter((o: { fate: string }) => o.fate === 'refused').every((o: { reason?: string }) => o.reason));
    assert.deepEqual(
      end.result?.outputs?.map((o) => o.fate),
      ['stored', 'stored', 'refused', 'refused'],
      'the job result (what the dashboard shows) has every fate',
    );
  });

  it('records at once what failed, retries only what is missing, and completes the record', async () => {
    const good = bytes(30_000, 63);
    const flaky = bytes(30_000, 64);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'good.mp3', content: good },
        { filename: 'flaky.m4a', content: flaky },
      ],
    });
    f.sim.inject({ target: 'storage', kind: 'corrupt', times: 1, uuid: p.uuid, filename: 'flaky.m4a' });
    const job = await addProductionJob(f.queue, { uuid: p.uuid, owner: { kind: 'account' }, reportedStatus: 3 });
    const interim = await waitFor(() => record(p.uuid).catch(() => null), 'the first attempt to write its record');
    assert.deepEqual([interim.bridge.outcome, interim.bridge.final], ['partial', false], 'recorded at once, as still being retried');
    assert.deepEqual(
      interim.bridge.outputs.map((o: { fate: string; code?: string }) => [o.fate, o.code ?? null]),
      [
        ['stored', null],
        ['failed', 'ERR_CHECKSUM_MISMATCH'],
      ],
    );
    assert.deepEqual(await stored(p.uuid, 'good.mp3'), good, 'the good file is there already');
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'complete');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'good.mp3'), 1, 'the stored output is not fetched again');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'flaky.m4a'), 2);
    assert.deepEqual(await stored(p.uuid, 'flaky.m4a'), flaky);
    const r = await record(p.uuid);
    assert.deepEqual([r.bridge.outcome, r.bridge.final], ['complete', true]);
  });

  it('writes no credential into the record, the job or the logs: the webhook URL secret is redacted', async () => {
    const secret = 'the-webhook-secret-never-stored-42';
    const p = await f.sim.addProduction({
      webhook: `https://bridge.example/webhooks/auphonic/${secret}`,
      metadata: { url: 'https://cdn.example/feed?token=feed-token-42&x=1' },
      files: [{ filename: 'a.mp3', content: bytes(100, 65) }],
    });
    const job = await f.enqueue(p.uuid);
    assert.equal((await f.settled(job)).state, 'completed');
    const raw = (await stored(p.uuid, 'auphonic-production.json')).toString('utf8');
    assert.ok(!raw.includes(secret), 'the webhook secret reached storage');
    assert.ok(!raw.includes('feed-token-42'), 'a token in a URL reached storage');
    const r = JSON.parse(raw);
    assert.equal(r.production.webhook, 'https://bridge.example/webhooks/auphonic/[redacted]');
    assert.equal(r.production.metadata.url, 'https://cdn.example/feed?token=[redacted]&x=1');
    const finished = await f.queue.getJob(job.id as string);
    assert.ok(!JSON.stringify([finished?.data, finished?.returnvalue]).includes(secret));
    assert.ok(!f.logs.text.includes(secret));
  });

  it('takes a 403 from the download link and a 401 from object storage for failed downloads, retried, not for a bad token', async () => {
    const content = bytes(20_000, 66);
    const p = await f.sim.addProduction({ files: [{ filename: 'refused.mp3', content }] });
    f.sim.inject({ target: 'download', kind: 'status', status: 403, times: 1, uuid: p.uuid });
    f.sim.inject({ target: 'storage', kind: 'status', status: 401, times: 1, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'complete');
    assert.equal(f.detailCalls(p.uuid), 1, 'ridden out within the attempt');
    assert.deepEqual(await stored(p.uuid, 'refused.mp3'), content);
  });
});

describe('delivery: outputs download side by side (DOWNLOAD_CONCURRENCY)', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const production = async (bytesPerSecond = 400_000) => {
    const files = ['a.mp3', 'b.m4a', 'c.ogg', 'd.flac'].map((filename, i) => ({ filename, content: bytes(200_000, 90 + i) }));
    const p = await f.sim.addProduction({ files });
    // Each output at 400 KB/s: half a second each, as a real link would give one connection.
    for (const { filename } of files) f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond, uuid: p.uuid, filename });
    return { p, files };
  };
  // The simulator stamps a span's end when its loop sees the answer finished, which on a loaded
  // machine can come after the worker, which had every byte already, asked for the next file.
  // Half a second per file: overlapping downloads would overlap by far more than this.
  const SLACK_MS = 100;
  const spans = (uuid: string) =>
    f.sim.requests.filter((r) => r.origin === 'storage' && r.path.includes(uuid) && r.status === 200).sort((a, b) => a.at - b.at);
  // For the same reason the last answer can be logged after the job is done (its 'finish' trails the bytes the worker read).
  // Stopped however the test ends: a worker left running would take the next test's jobs.
  const startWorker = async (t: TestContext, env: Record<string, string>) => {
    const worker = await f.startWorker(env);
    t.after(() => worker.destroy());
  };
  const allSpans = async (uuid: string) => {
    await waitFor(() => spans(uuid).length === 4, 'the simulator to log the four downloads');
    return spans(uuid);
  };

  it('runs at most DOWNLOAD_CONCURRENCY at once, and stores them all exactly', async (t) => {
    await startWorker(t, { DOWNLOAD_CONCURRENCY: '3' });
    const { p, files } = await production();
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    for (const { filename, content } of files) assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, filename)), content);
    const s = await allSpans(p.uuid);
    const [first, second, third, fourth] = s as [(typeof s)[0], (typeof s)[0], (typeof s)[0], (typeof s)[0]];
    assert.ok(second.at < first.doneAt && third.at < first.doneAt, 'three at once');
    const firstDone = Math.min(first.doneAt, second.doneAt, third.doneAt);
    assert.ok(fourth.at >= firstDone - SLACK_MS, `the fourth when one of them was done (${fourth.at - firstDone} ms)`);
  });

  it('stops the others at once when one hits what concerns the whole production, leaving no temporary file', async (t) => {
    await startWorker(t, { DOWNLOAD_CONCURRENCY: '3' });
    // Four seconds each, were they waited for.
    const { p } = await production(50_000);
    f.sim.inject({ target: 'download', kind: 'status', status: 401, uuid: p.uuid, filename: 'c.ogg' });
    const started = Date.now();
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'failed');
    assert.match(end.reason ?? '', /ERR_AUPHONIC_UNAUTHORIZED/);
    assert.ok(Date.now() - started < 2000, `the slow ones were cancelled, not waited for (${Date.now() - started} ms)`);
    assert.deepEqual(
      (await f.listFiles()).filter((x) => x.includes('.incoming/')),
      [],
    );
  });

  it('gives a slot left idle a range of the output still running, and stores it exactly', async (t) => {
    await startWorker(t, { DOWNLOAD_CONCURRENCY: '3', DOWNLOAD_SPLIT_MIN_MB: '1' });
    const small = { filename: 'a.mp3', content: bytes(200_000, 95) };
    const big = { filename: 'b.flac', content: bytes(4 * 1024 * 1024, 96) };
    const p = await f.sim.addProduction({ files: [small, big] });
    // One MB/s per connection, every connection: four seconds for the big one on its own.
    for (const { filename } of [small, big])
      f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 1_000_000, times: 100, uuid: p.uuid, filename });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    for (const { filename, content } of [small, big])
      assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, filename)), content);
    const ranges = f.sim.requests.filter((r) => r.origin === 'storage' && r.path.endsWith('/b.flac') && r.status === 206);
    // Said in full should it fail (it did once in a clean run, never since): what was asked of the big one, and what the worker said.
    const why = () =>
      JSON.stringify({
        requests: f.sim.requests.filter((r) => r.path.endsWith('/b.flac')).map((r) => [r.origin, r.status, r.at, r.doneAt]),
        logs: f.logs.records().filter((l) => l.uuid === p.uuid && l.filename === 'b.flac'),
      });
    assert.ok(ranges.length >= 1, `a range of it was fetched on the side: ${why()}`);
    assert.ok(
      ranges.every((r) => r.at >= (f.sim.requests.find((x) => x.path.endsWith('/a.mp3') && x.status === 200)?.doneAt ?? 0) - SLACK_MS),
      'by the slot the small one had, once it was done',
    );
    const stored = JSON.parse(await readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8'));
    const record = stored.bridge.outputs.find((o: { filename: string }) => o.filename === 'b.flac');
    assert.equal(record.md5, createHash('md5').update(big.content).digest('hex'));
    const line = f.logs.records().find((l) => l.uuid === p.uuid && l.filename === 'b.flac' && l.msg === 'file stored');
    assert.ok(Number(line?.ranges) >= 2, `the log says in how many ranges: ${JSON.stringify(line)}`);
  });

  it('runs them one after another with DOWNLOAD_CONCURRENCY=1', async (t) => {
    await startWorker(t, { DOWNLOAD_CONCURRENCY: '1' });
    const { p } = await production();
    assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
    const s = await allSpans(p.uuid);
    for (let i = 1; i < s.length; i++) {
      const gap = (s[i]?.at ?? 0) - (s[i - 1]?.doneAt ?? 0);
      assert.ok(gap >= -SLACK_MS, `one at a time (file ${i + 1} began ${gap} ms after file ${i} ended)`);
    }
  });
});

describe('delivery: a connection is re-authorised only when Auphonic itself refuses its token', () => {
  let f: WorkerFixture;
  let redis: Redis;
  let store: ConnectionStore;
  let connectionId: string;
  let userId: string;
  const KEY = Buffer.alloc(32, 3);
  before(async () => {
    f = await startFixture();
    ({ redis, store, connectionId, userId } = await connectUser(f, KEY, 'host-user'));
    await f.startWorker({ ENCRYPTION_KEY: KEY.toString('hex') });
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  const enqueue = (uuid: string) => addProductionJob(f.queue, { uuid, owner: { kind: 'connection', id: connectionId }, reportedStatus: 3 });

  it('stores through 403s of the download origin and 401s of object storage, the connection still connected', async () => {
    const p = await f.sim.addProduction({ owner: userId, files: [{ filename: 'a.mp3', content: bytes(5000, 67) }] });
    f.sim.inject({ target: 'download', kind: 'status', status: 403, times: 2, uuid: p.uuid });
    f.sim.inject({ target: 'storage', kind: 'status', status: 401, times: 1, uuid: p.uuid });
    const end = await f.settled(await enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal((await store.get(connectionId))?.status, 'connected');
  });

  it('marks it for re-authorisation on a 401 of the API, and fails at once', async () => {
    const p = await f.sim.addProduction({ owner: userId, files: [{ filename: 'b.mp3', content: bytes(50, 68) }] });
    f.sim.inject({ target: 'details', kind: 'status', status: 401, times: 1, uuid: p.uuid });
    const end = await f.settled(await enqueue(p.uuid));
    assert.equal(end.state, 'failed');
    assert.match(end.reason ?? '', /ERR_AUPHONIC_UNAUTHORIZED/);
    assert.equal((await store.get(connectionId))?.status, 'needs_reauth');
  });
});

describe('delivery: retries last for RETRY_FOR, not for a count of attempts', () => {
  let f: WorkerFixture;
  let redis: Redis;
  before(async () => {
    f = await startFixture();
    redis = new Redis(f.redis.url.toString());
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('rides out an outage longer than ten attempts and then stores the production', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '60s', REQUEST_RETRIES: '0' });
    const content = bytes(1000, 71);
    const p = await f.sim.addProduction({ files: [{ filename: 'outage.mp3', content }] });
    f.sim.inject({ target: 'details', kind: 'flaky', rate: 1, uuid: p.uuid });
    const job = await f.enqueue(p.uuid);
    await waitFor(async () => ((await f.queue.getJob(job.id as string))?.attemptsMade ?? 0) > 12, 'more than ten failed attempts');
    f.sim.clearFaults();
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'outage.mp3')), content);
    await worker.destroy();
  });

  it('gives up once RETRY_FOR has passed, and records exactly why', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '2s', REQUEST_RETRIES: '0' });
    const p = await f.sim.addProduction({ files: [{ filename: 'never.mp3', content: bytes(10, 72) }] });
    f.sim.inject({ target: 'details', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid });
    const started = Date.now();
    const end = await f.settled(await f.enqueue(p.uuid));
    f.sim.clearFaults();
    assert.equal(end.state, 'failed');
    assert.ok(Date.now() - started >= 2000, 'not before RETRY_FOR');
    assert.match(end.reason ?? '', /ERR_AUPHONIC_UNAVAILABLE.*HTTP 503/);
    const r = JSON.parse(await readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8'));
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.error.code], ['error', true, 'ERR_AUPHONIC_UNAVAILABLE']);
    await worker.destroy();
  });

  it('looks again later for an output Auphonic lists but does not serve (404, a fresh link too), rather than writing it off', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '60s', REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '200' });
    const content = bytes(2000, 80);
    const p = await f.sim.addProduction({ files: [{ filename: 'late.mp3', content }] });
    // The link and the fresh one both answer 404 in the first attempt; the file is there for the next.
    f.sim.inject({ target: 'storage', kind: 'status', status: 404, times: 2, uuid: p.uuid, filename: 'late.mp3' });
    const job = await f.enqueue(p.uuid);
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'complete');
    assert.ok(((await f.queue.getJob(job.id as string))?.attemptsMade ?? 0) >= 1, 'a second attempt stored it');
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'late.mp3')), content);
    await worker.destroy();
  });

  it('records a production partial once RETRY_FOR has passed, naming the output Auphonic never rendered', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '1s', REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '200' });
    const p = await f.sim.addProduction({
      files: [
        { filename: 'ready.mp3', content: bytes(100, 78) },
        { filename: 'never.ogg', content: bytes(100, 79), downloadUrl: null },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok(f.detailCalls(p.uuid) >= 2, 'looked at again before giving up');
    const r = JSON.parse(await readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8'));
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.notRendered], ['partial', true, ['never.ogg']]);
    const never = r.bridge.outputs.find((o: { filename: string }) => o.filename === 'never.ogg');
    assert.deepEqual([never.fate, never.code], ['failed', 'ERR_OUTPUT_NOT_RENDERED']);
    assert.match(never.reason, /not rendered/);
    await worker.destroy();
  });

  it('records what was stored, final and told, once a not-rendered output has been looked for 15 minutes, not RETRY_FOR', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '48h', REQUEST_RETRIES: '0' });
    const files = (seed: number) => [
      { filename: 'ready.mp3', content: bytes(100, seed) },
      { filename: 'later.ogg', content: bytes(100, seed + 1), downloadUrl: null },
    ];
    const owner = { kind: 'account' as const };
    const sixteenMinutesAgo = new Date(Date.now() - 16 * 60_000);
    const queue = (uuid: string, extra: Record<string, unknown>, timestamp = Date.now()) =>
      f.queue.add(
        'production',
        { uuid, owner, reportedStatus: 3, receivedAt: new Date(timestamp).toISOString(), ...extra },
        { deduplication: { id: productionDedupId(owner, uuid) }, timestamp },
      );
    // Looked for since 16 minutes ago: the patience is spent, RETRY_FOR is not.
    const p = await f.sim.addProduction({ files: files(81) });
    const end = await f.settled(await queue(p.uuid, { waitingSince: sixteenMinutesAgo.toISOString() }));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'partial');
    assert.equal(f.detailCalls(p.uuid), 1, 'not looked at again');
    const r = JSON.parse(await readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8'));
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.notRendered], ['partial', true, ['later.ogg']]);

    // Queued 16 minutes ago (a backlog, a worker down) but never looked at: its patience starts at its first look.
    const q = await f.sim.addProduction({ files: files(83) });
    const late = await queue(q.uuid, {}, sixteenMinutesAgo.getTime());
    await waitFor(async () => f.detailCalls(q.uuid) >= 2, 'a second look');
    const first = JSON.parse(await readFile(join(f.storageDir, 'account', q.uuid, 'auphonic-production.json'), 'utf8'));
    assert.equal(first.bridge.final, false, 'not final at its first look');
    assert.ok((await f.queue.getJob(late.id as string))?.data.waitingSince, 'it notes when it began to wait');
    await worker.destroy();
    await (await f.queue.getJob(late.id as string))?.remove().catch(() => {});
  });

  it('records an error, not a complete production, when a finished production lists no output files', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '1s', REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '200' });
    const p = await f.sim.addProduction({ files: [] });
    const job = await f.enqueue(p.uuid);
    // Recorded at once, not final: the operator sees why while it is looked at again.
    const first = await waitFor(
      () => readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8').catch(() => null),
      'the record of the first attempt',
    );
    assert.deepEqual(JSON.parse(first).bridge.error?.code, 'ERR_NO_OUTPUTS');
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'error');
    assert.ok(f.detailCalls(p.uuid) >= 2, 'looked at again before giving up');
    const r = JSON.parse(await readFile(join(f.storageDir, 'account', p.uuid, 'auphonic-production.json'), 'utf8'));
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.error.code], ['error', true, 'ERR_NO_OUTPUTS']);
    await worker.destroy();
  });

  for (const state of ['failed', 'completed'] as const) {
    it(`retried by hand once ${state} (the dashboard's retry), queues the production anew, with a budget of its own`, async () => {
      const worker = await f.startWorker({ RETRY_FOR: '1s', REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '200' });
      const content = bytes(1000, state === 'failed' ? 76 : 77);
      const p = await f.sim.addProduction({ files: [{ filename: 'again.mp3', content }] });
      if (state === 'failed') f.sim.inject({ target: 'details', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid });
      const job = await f.enqueue(p.uuid);
      assert.equal((await f.settled(job)).state, state);
      await new Promise((r) => setTimeout(r, 1100)); // older than RETRY_FOR
      // Auphonic fails once after the retry: a run on the spent budget would give up at once.
      f.sim.clearFaults();
      f.sim.inject({ target: 'details', kind: 'status', status: 503, times: 1, uuid: p.uuid });
      await (await f.queue.getJob(job.id as string))?.retry(state);
      const retried = await f.settled(job);
      assert.equal(retried.result?.outcome, 'requeued', retried.reason);
      const again = await f.queue.getJob(retried.result?.requeuedAs ?? '');
      assert.ok(again && again.id !== job.id, 'a job of its own');
      const end = await f.settled(again);
      assert.equal(end.state, 'completed', end.reason);
      const done = await f.queue.getJob(again.id as string);
      assert.ok((done?.attemptsMade ?? 0) >= 2, `rode out the 503 with a retry (${done?.attemptsMade} attempts)`);
      assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'again.mp3')), content);
      const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
      assert.match(metrics, /^auphonic_bridge_jobs_processed_total\{queue="productions",outcome="requeued"[^}]*\} 1$/m);
      await worker.destroy();
    });
  }

  // BullMQ fails a job that stalled too often without running it: "unrun" stands for that (its deferred failure set, as
  // moveStalledJobsToWait sets it), where the processor never sees the job.
  for (const how of ['run', 'unrun'] as const) {
    it(`retried by hand while another job of the production runs, ${how === 'run' ? 'is folded into it' : 'and failed unrun'}, never runs a job beside it`, async () => {
      const worker = await f.startWorker({ RETRY_FOR: '1s', REQUEST_RETRIES: '0', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '200' });
      const p = await f.sim.addProduction({ files: [{ filename: 'busy.mp3', content: bytes(200_000, how === 'run' ? 78 : 79) }] });
      f.sim.inject({ target: 'details', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid });
      const gaveUp = await f.enqueue(p.uuid);
      assert.equal((await f.settled(gaveUp)).state, 'failed');
      f.sim.clearFaults();
      // A webhook's job that takes two seconds, and a repeat while it runs (BullMQ keeps a run for after it).
      f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 100_000, times: 1, uuid: p.uuid });
      const running = await f.enqueue(p.uuid);
      await waitFor(async () => (await running.getState()) === 'active', "the webhook's job to run");
      await f.enqueue(p.uuid);
      if (how === 'unrun') await redis.hset(`${f.redis.prefix}:productions:${gaveUp.id}`, 'defa', 'job stalled more than allowable limit');
      await (await f.queue.getJob(gaveUp.id as string))?.retry('failed');
      let most = 0;
      await waitFor(
        async () => {
          // The retried job itself is active a moment, only to queue the production anew.
          const mine = async (states: Array<'active' | 'waiting' | 'delayed'>) =>
            (await f.queue.getJobs(states)).filter((j) => j.data.uuid === p.uuid && j.id !== gaveUp.id).length;
          most = Math.max(most, await mine(['active']));
          return (await mine(['active', 'waiting', 'delayed'])) === 0;
        },
        'every job of the production to be done',
        20_000,
      );
      assert.equal(most, 1, 'one job of the production at work at a time');
      const outcomes = (await f.queue.getJobs(['completed', 'failed']))
        .filter((j) => j.data.uuid === p.uuid && j.id !== gaveUp.id)
        .sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0))
        .map((j) => j.returnvalue?.outcome ?? j.failedReason);
      assert.deepEqual(outcomes, ['complete', 'unchanged'], "the webhook's job stored it; the run after it found it stored");
      const retried = await f.settled(gaveUp);
      if (how === 'run') assert.deepEqual([retried.result?.outcome, retried.result?.requeuedAs], ['requeued', running.id]);
      else assert.equal(retried.state, 'failed');
      await worker.destroy();
    });
  }

  it('gives up over a partial record: made final, its stored file and failed output kept, the error beside', async () => {
    const worker = await f.startWorker({ RETRY_FOR: '3s', REQUEST_RETRIES: '0' });
    const good = bytes(1000, 73);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'kept.mp3', content: good },
        { filename: 'broken.mp3', content: bytes(1000, 74) },
      ],
    });
    f.sim.inject({ target: 'storage', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid, filename: 'broken.mp3' });
    const recordPath = join(f.storageDir, 'account', p.uuid, 'auphonic-production.json');
    const job = await f.enqueue(p.uuid);
    const first = await waitFor(async () => JSON.parse(await readFile(recordPath, 'utf8').catch(() => 'null')), 'the partial record');
    assert.deepEqual([first.bridge.outcome, first.bridge.final], ['partial', false]);
    // Then Auphonic's API is down for the rest of the budget: the last attempt fails on the details.
    f.sim.inject({ target: 'details', kind: 'flaky', rate: 1, statuses: [503], uuid: p.uuid });
    const end = await f.settled(job, 20_000);
    f.sim.clearFaults();
    assert.equal(end.state, 'failed');
    const r = JSON.parse(await readFile(recordPath, 'utf8'));
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.error?.code], ['partial', true, 'ERR_AUPHONIC_UNAVAILABLE']);
    assert.deepEqual(r.bridge.outputs.map((o: { filename: string; fate: string }) => [o.filename, o.fate]).sort(), [
      ['broken.mp3', 'failed'],
      ['kept.mp3', 'stored'],
    ]);
    assert.equal(r.bridge.fingerprint, first.bridge.fingerprint);
    assert.equal(r.production?.uuid, p.uuid);
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'kept.mp3')), good);
    await worker.destroy();
  });
});

describe('delivery: a flaky Auphonic (30% of API and download requests fail)', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('stores all of 60 productions within 60 s on the shipped retry settings', async () => {
    // The shipped backoff (5 s doubling), not the fixture's fast one: the quick retries must carry it.
    await f.startWorker({ RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '900000', LOG_LEVEL: 'warn' });
    for (const target of ['details', 'download', 'storage'] as const) f.sim.inject({ target, kind: 'flaky', rate: 0.3 });
    const productions = [];
    for (let i = 0; i < 60; i++) {
      productions.push(
        await f.sim.addProduction({
          files: [
            { filename: 'episode.mp3', content: bytes(40_000, i) },
            { filename: 'episode.m4a', content: bytes(30_000, i + 100) },
          ],
        }),
      );
    }
    const started = Date.now();
    const jobs = await Promise.all(productions.map((p) => f.enqueue(p.uuid)));
    // Waited for as long as the test claims (while other test files share the machine, the tail of the retries is long).
    const ends = await Promise.all(jobs.map((j) => f.settled(j, 60_000)));
    const seconds = (Date.now() - started) / 1000;
    const failedRequests = f.sim.requests.filter((r) => r.status >= 500).length;
    process.stdout.write(
      `# 30% faults: ${ends.filter((e) => e.state === 'completed').length}/60 stored in ${seconds.toFixed(1)} s, ${failedRequests} requests failed\n`,
    );
    f.sim.clearFaults();
    assert.ok(failedRequests > 30, 'the faults happened');
    for (const [i, end] of ends.entries()) {
      assert.equal(end.state, 'completed', end.reason);
      assert.equal(end.result?.outcome, 'complete');
      assert.deepEqual(await readFile(join(f.storageDir, 'account', productions[i]?.uuid ?? '', 'episode.mp3')), bytes(40_000, i));
    }
    assert.ok(seconds < 60, `took ${seconds} s`);
  });
});
