import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@auphonic-bridge/testing';
import type { WorkerService } from '../src/service.ts';
import { API_KEY, bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('worker: a production from webhook to verified files', () => {
  let f: WorkerFixture;
  let worker: WorkerService;
  before(async () => {
    f = await startFixture();
    worker = await f.startWorker();
  });
  after(() => f.close());

  const stored = (uuid: string, name: string) => readFile(join(f.storageDir, 'account', uuid, name));
  const record = async (uuid: string) => JSON.parse((await stored(uuid, 'auphonic-production.json')).toString('utf8'));
  const storageRequests = (uuid: string) => f.sim.requests.filter((r) => r.origin === 'storage' && r.path.includes(uuid));

  it('stores every output file with exact bytes beside the production record', async () => {
    const mp3 = bytes(300_000, 1);
    const m4a = bytes(200_000, 2);
    const srt = Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nHallo Welt\n');
    const p = await f.sim.addProduction({
      files: [
        { filename: 'episode.mp3', content: mp3, bitrate: 128 },
        { filename: 'episode.m4a', content: m4a },
        { filename: 'Folge 1 – Über.srt', content: srt },
      ],
      metadata: { title: 'Episode 1' },
    });
    const job = await f.enqueue(p.uuid);
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual(end.result, {
      uuid: p.uuid,
      outcome: 'complete',
      files: 3,
      bytes: mp3.length + m4a.length + srt.length,
      stored: [
        { filename: 'episode.mp3', format: 'mp3', kind: 'audio', key: `account/${p.uuid}/episode.mp3` },
        { filename: 'episode.m4a', format: 'aac', kind: 'audio', key: `account/${p.uuid}/episode.m4a` },
        { filename: 'Folge 1 – Über.srt', format: 'subtitle', kind: 'audio', key: `account/${p.uuid}/Folge 1 – Über.srt` },
      ],
      outputs: [
        { filename: 'episode.mp3', format: 'mp3', kind: 'audio', fate: 'stored' },
        { filename: 'episode.m4a', format: 'aac', kind: 'audio', fate: 'stored' },
        { filename: 'Folge 1 – Über.srt', format: 'subtitle', kind: 'audio', fate: 'stored' },
      ],
    });
    assert.deepEqual(await stored(p.uuid, 'episode.mp3'), mp3);
    assert.deepEqual(await stored(p.uuid, 'episode.m4a'), m4a);
    assert.deepEqual(await stored(p.uuid, 'Folge 1 – Über.srt'), srt);

    const r = await record(p.uuid);
    assert.deepEqual(r.production, f.sim.production(p.uuid), 'the record keeps the details as fetched, unknown fields included');
    assert.equal(r.bridge.outcome, 'complete');
    assert.equal(r.bridge.final, true);
    assert.deepEqual(
      r.bridge.files.map((x: { filename: string; checksumVerified: boolean }) => [x.filename, x.checksumVerified]),
      [
        ['episode.mp3', true],
        ['episode.m4a', true],
        ['Folge 1 – Über.srt', true],
      ],
    );
    assert.ok(!(await f.listFiles()).some((x) => x.includes('.incoming/') && x.endsWith('.part')), 'no temporary file left');
  });

  it('never sends the API key to object storage, and never logs or queues it', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'a.mp3', content: bytes(1000) }] });
    const job = await f.enqueue(p.uuid);
    assert.equal((await f.settled(job)).state, 'completed');
    const reqs = storageRequests(p.uuid);
    assert.ok(reqs.length > 0);
    assert.ok(reqs.every((r) => !r.hasAuthorization));
    assert.ok(f.sim.requests.some((r) => r.origin === 'api' && r.hasAuthorization));
    assert.ok(!f.logs.text.includes(API_KEY));
    assert.ok(!JSON.stringify(job.data).includes(API_KEY));
    assert.ok(f.logs.records().some((l) => l.uuid === p.uuid && l.msg === 'production stored'));
  });

  it('records a production in Error and downloads nothing', async () => {
    const p = await f.sim.addProduction({ status: 2, files: [{ filename: 'x.mp3', content: bytes(100) }] });
    const end = await f.settled(await f.enqueue(p.uuid, 2));
    assert.equal(end.state, 'completed');
    assert.equal(end.result?.outcome, 'error');
    const r = await record(p.uuid);
    assert.equal(r.bridge.outcome, 'error');
    assert.match(r.bridge.error.message, /Simulated error/);
    assert.equal(storageRequests(p.uuid).length, 0);
    await assert.rejects(stored(p.uuid, 'x.mp3'), { code: 'ENOENT' });
  });

  it('trusts the API over the webhook: waits while Auphonic says it is still running', async () => {
    const p = await f.sim.addProduction({ status: 4, files: [{ filename: 'late.mp3', content: bytes(5000, 7) }] });
    const job = await f.enqueue(p.uuid, 3);
    setTimeout(() => void f.sim.updateProduction(p.uuid, { status: 3 }), 300);
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.ok(f.detailCalls(p.uuid) >= 2, 'it retried while the production was running');
    assert.deepEqual(await stored(p.uuid, 'late.mp3'), bytes(5000, 7));
  });

  it('does not download again when the same webhook comes again, but does after a real re-run', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'dup.mp3', content: bytes(50_000, 3) }] });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    const again = await f.settled(await f.enqueue(p.uuid));
    assert.equal(again.result?.outcome, 'unchanged');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'dup.mp3'), 1);

    await f.sim.updateProduction(p.uuid, { files: [{ filename: 'dup.mp3', content: bytes(60_000, 4) }] });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'dup.mp3'), 2);
    assert.deepEqual(await stored(p.uuid, 'dup.mp3'), bytes(60_000, 4));
  });

  it('recovers from 5xx answers of the API and of storage', async () => {
    const content = bytes(80_000, 5);
    const p = await f.sim.addProduction({ files: [{ filename: 'flaky.mp3', content }] });
    f.sim.inject({ target: 'details', kind: 'status', status: 502, times: 2, uuid: p.uuid });
    f.sim.inject({ target: 'storage', kind: 'status', status: 503, times: 1, uuid: p.uuid });
    f.sim.inject({ target: 'download', kind: 'status', status: 500, times: 1, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok(f.detailCalls(p.uuid) >= 3);
    assert.deepEqual(await stored(p.uuid, 'flaky.mp3'), content);
  });

  it('honours Retry-After on a 429', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'slow.mp3', content: bytes(1000) }] });
    f.sim.inject({ target: 'details', kind: 'status', status: 429, retryAfterSeconds: 1, times: 1, uuid: p.uuid });
    const started = Date.now();
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    // The backoff settings here are 20-200 ms: only Retry-After explains a wait of a second.
    assert.ok(Date.now() - started >= 1000, `retried after ${Date.now() - started} ms`);
  });

  it("waits out a download's Retry-After too long for the quick retries before the job's next attempt", async () => {
    const content = bytes(1000, 12);
    const p = await f.sim.addProduction({ files: [{ filename: 'limited.mp3', content }] });
    // 30 s: past the quick retries' 10 s, so the attempt fails and the job backs off.
    f.sim.inject({ target: 'download', kind: 'status', status: 429, retryAfterSeconds: 30, times: 1, uuid: p.uuid });
    const job = await f.enqueue(p.uuid);
    const delayed = await waitFor(async () => {
      const now = await f.queue.getJob(job.id as string);
      return now && (await now.getState()) === 'delayed' ? now : null;
    }, 'the job to back off');
    // The fixture's backoff is 20-200 ms: only the Retry-After explains half a minute.
    assert.ok(delayed.delay >= 29_000, `backed off ${delayed.delay} ms`);
    await delayed.promote();
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual(await stored(p.uuid, 'limited.mp3'), content);
  });

  it('resumes a download cut off mid-body with a Range request and ends with exact bytes', async () => {
    const content = bytes(1_000_000, 9);
    const p = await f.sim.addProduction({ files: [{ filename: 'cut.mp3', content }] });
    f.sim.inject({ target: 'storage', kind: 'cut', afterBytes: 300_000, times: 2, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(f.detailCalls(p.uuid), 1, 'resumed within the first attempt');
    assert.deepEqual(await stored(p.uuid, 'cut.mp3'), content);
    const ranges = storageRequests(p.uuid).map((r) => r.range);
    assert.deepEqual(ranges, [undefined, 'bytes=300000-', 'bytes=600000-']);
  });

  it('starts over when the source ignores Range, still with exact bytes', async () => {
    const content = bytes(500_000, 11);
    const p = await f.sim.addProduction({ files: [{ filename: 'norange.mp3', content }] });
    f.sim.inject({ target: 'storage', kind: 'cut', afterBytes: 200_000, times: 1, uuid: p.uuid });
    f.sim.inject({ target: 'storage', kind: 'no-range', times: 5, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual(await stored(p.uuid, 'norange.mp3'), content);
  });

  it('gets a fresh link when the presigned one has expired', async () => {
    const content = bytes(10_000, 12);
    const p = await f.sim.addProduction({ files: [{ filename: 'expired.mp3', content }] });
    f.sim.inject({ target: 'download', kind: 'expired-link', times: 1, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual(await stored(p.uuid, 'expired.mp3'), content);
  });

  it('fails at once, without retries, on a production Auphonic does not know', async () => {
    const end = await f.settled(await f.enqueue('AAAAAAAAAAAAAAAAAAAAAA'));
    assert.equal(end.state, 'failed');
    assert.equal(f.detailCalls('AAAAAAAAAAAAAAAAAAAAAA'), 1);
    assert.match(end.reason ?? '', /ERR_AUPHONIC_NOT_FOUND/);
  });

  it('fails at once when Auphonic reports an error inside an HTTP 200 answer', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'e.mp3', content: bytes(10) }] });
    f.sim.inject({ target: 'details', kind: 'envelope-error', statusCode: 401, message: "Token doesn't exist", times: 1, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'failed');
    assert.equal(f.detailCalls(p.uuid), 1);
    assert.match(end.reason ?? '', /ERR_AUPHONIC_UNAUTHORIZED.*Token doesn't exist/);
  });

  const noFiles = async (uuid: string) =>
    (await f.listFiles()).filter((x) => (x.includes(uuid) && !x.endsWith('auphonic-production.json')) || x.includes('.incoming/'));

  it('retries a checksum that does not match, then refuses bytes that fail it twice alike, leaving nothing', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'bad.mp3', content: bytes(20_000), checksum: '0'.repeat(32) }] });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'error');
    assert.equal(f.detailCalls(p.uuid), 2, 'one retry, then the same bytes again');
    const [out] = (await record(p.uuid)).bridge.outputs;
    assert.equal(out.fate, 'refused');
    assert.equal(out.code, 'ERR_CHECKSUM_MISMATCH');
    assert.match(out.reason, /twice for the very same bytes.*VERIFY_CHECKSUMS=false/);
    assert.deepEqual(await noFiles(p.uuid), []);
  });

  it('retries a size that does not match, then refuses it, leaving nothing', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'short.mp3', content: bytes(20_000), size: 30_000 }] });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    const [out] = (await record(p.uuid)).bridge.outputs;
    assert.equal(out.fate, 'refused');
    assert.match(out.reason, /got 20000 bytes, Auphonic says 30000/);
    assert.deepEqual(await noFiles(p.uuid), []);
  });

  it('refuses a download_url off the Auphonic host, permanently, fetching nothing', async () => {
    const p = await f.sim.addProduction({
      files: [{ filename: 'evil.mp3', content: bytes(100), downloadUrl: 'http://127.0.0.2:9/api/download/audio-result/x/evil.mp3' }],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'error');
    assert.equal(f.detailCalls(p.uuid), 1);
    const [out] = (await record(p.uuid)).bridge.outputs;
    assert.deepEqual([out.fate, out.code], ['refused', 'ERR_DOWNLOAD_FOREIGN_HOST']);
    assert.deepEqual(await noFiles(p.uuid), []);
  });

  for (const filename of ['../../escape.mp3', '..', 'a/b.mp3', '.hidden.mp3', 'auphonic-production.json']) {
    it(`refuses the output filename ${JSON.stringify(filename)} without writing it`, async () => {
      const p = await f.sim.addProduction({ files: [{ filename, content: bytes(100) }] });
      const end = await f.settled(await f.enqueue(p.uuid));
      assert.equal(end.state, 'completed', end.reason);
      assert.equal(f.detailCalls(p.uuid), 1);
      const [out] = (await record(p.uuid)).bridge.outputs;
      assert.deepEqual([out.fate, out.code], ['refused', 'ERR_UNSAFE_OUTPUT']);
      assert.deepEqual(await noFiles(p.uuid), []);
      assert.ok(!(await f.listFiles()).some((x) => x.includes('escape')));
    });
  }

  it('reports download progress on the job while it runs', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'progress.mp3', content: bytes(1_500_000, 41) }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 500_000, uuid: p.uuid });
    const job = await f.enqueue(p.uuid);
    const seen = await waitFor(async () => {
      const progress = (await f.queue.getJob(job.id as string))?.progress as
        | { filename?: string; bytes?: number; total?: number }
        | undefined;
      return progress?.bytes && progress.bytes < 1_500_000 ? progress : null;
    }, 'progress mid-download');
    assert.equal(seen.filename, 'progress.mp3');
    assert.equal(seen.total, 1_500_000);
    assert.equal((await f.settled(job)).state, 'completed');
  });

  it('serves /livez, /healthz and /metrics that moved with the jobs', async () => {
    const base = `http://127.0.0.1:${worker.metricsPort}`;
    assert.equal((await fetch(`${base}/livez`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (line: RegExp) =>
      Number(
        text
          .split('\n')
          .find((l) => line.test(l))
          ?.split(' ')
          .at(-1) ?? 0,
      );
    assert.ok(value(/^auphonic_bridge_jobs_processed_total\{.*outcome="completed"/) >= 5);
    assert.ok(value(/^auphonic_bridge_jobs_processed_total\{.*outcome="failed"/) >= 2);
    assert.ok(value(/^auphonic_bridge_productions_recorded_total\{.*outcome="error"/) >= 3);
    assert.ok(value(/^auphonic_bridge_job_retries_total\{/) >= 1);
    assert.ok(value(/^auphonic_bridge_download_bytes_total/) > 1_000_000);
    assert.ok(value(/^auphonic_bridge_auphonic_request_duration_seconds_count\{.*status_code="200"/) >= 5);
    assert.ok(value(/^auphonic_bridge_auphonic_request_duration_seconds_count\{.*status_code="502"/) >= 2);
    assert.ok(value(/^auphonic_bridge_queue_workers\{/) >= 1);
  });

  it('takes a size of 0 beside a checksum for a size not known yet: the file is stored, verified by its checksum', async () => {
    const content = bytes(700, 12);
    const p = await f.sim.addProduction({ files: [{ filename: 'sized-later.mp3', content, size: 0 }] });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    const out = (await record(p.uuid)).bridge.outputs[0];
    assert.deepEqual([out.fate, out.size, out.checksumVerified], ['stored', 700, true]);
  });

  it('stores an output Auphonic announces no checksum for, and says it is unverified, in the record and the log', async () => {
    const content = bytes(300, 11);
    const p = await f.sim.addProduction({ files: [{ filename: 'unsummed.mp3', content, checksum: null }] });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    const out = (await record(p.uuid)).bridge.outputs[0];
    assert.deepEqual([out.fate, out.checksumVerified], ['stored', false]);
    assert.ok(
      f.logs.records().some((l) => l.uuid === p.uuid && l.filename === 'unsummed.mp3' && /stored unverified/.test(String(l.msg))),
      'a warning names the file',
    );
  });

  it('looks again for an output a finished production lists without a file, and stores it once Auphonic has rendered it', async () => {
    const ready = bytes(100);
    const later = bytes(120, 9);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'ready.mp3', content: ready },
        { filename: 'pending.ogg', content: later, downloadUrl: null },
      ],
    });
    const job = await f.enqueue(p.uuid);
    const first = await waitFor(async () => {
      const r = await record(p.uuid).catch(() => null);
      return r?.bridge.final === false ? r : null;
    }, 'the record of the first attempt');
    assert.deepEqual(
      first.bridge.outputs.map((o: { filename: string; fate: string; code?: string }) => [o.filename, o.fate, o.code ?? null]),
      [
        ['ready.mp3', 'stored', null],
        ['pending.ogg', 'failed', 'ERR_OUTPUT_NOT_RENDERED'],
      ],
    );
    assert.deepEqual(first.bridge.notRendered, ['pending.ogg']);
    // Auphonic renders it; no second webhook comes.
    await f.sim.updateProduction(p.uuid, {
      files: [
        { filename: 'ready.mp3', content: ready },
        { filename: 'pending.ogg', content: later },
      ],
    });
    const end = await f.settled(job);
    assert.equal(end.state, 'completed', end.reason);
    assert.deepEqual([end.result?.outcome, end.result?.files], ['complete', 2]);
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'pending.ogg')), later);
    assert.deepEqual((await record(p.uuid)).bridge.notRendered, []);
  });
});

describe('worker: bad credentials', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
    await f.startWorker({ AUPHONIC_API_KEY: 'not-the-right-key' });
  });
  after(() => f.close());

  it('fails a job at once on 401, with a clear reason', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'a.mp3', content: bytes(100) }] });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'failed');
    assert.equal(f.detailCalls(p.uuid), 1);
    assert.match(end.reason ?? '', /ERR_AUPHONIC_UNAUTHORIZED/);
    assert.ok(!f.logs.text.includes('not-the-right-key'));
  });
});
