import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Driver } from '@auphonic-bridge/storage';
import { spawnService, startS3, type TestS3, waitFor } from '@auphonic-bridge/testing';
import type { WorkerService } from '../src/service.ts';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

/** s3rver's credentials, as the AWS SDK's own chain reads them (for a spawned worker). */
function s3Credentials(s3: TestS3): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
}

/** A worker's settings for s3rver, under `prefix`; its credentials go where the AWS SDK's own chain reads them. */
function s3Settings(s3: TestS3, prefix: string): Record<string, string> {
  Object.assign(process.env, s3Credentials(s3));
  return { STORAGE_DIR: '', STORAGE_URL: `s3://${s3.bucket}/${prefix}`, S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1' };
}

describe('worker with S3 storage (s3rver)', () => {
  let f: WorkerFixture;
  let s3: TestS3;
  let worker: WorkerService;
  let s3Env: Record<string, string>;
  const sent: string[] = [];
  before(async () => {
    f = await startFixture();
    s3 = await startS3();
    s3Env = { ...s3Settings(s3, 'media'), S3_PART_SIZE_MB: '5' };
    worker = await f.startWorker(s3Env);
    (worker.storage as S3Driver).client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'spy' },
    );
  });
  after(async () => {
    await f.close();
    await s3.close();
  });

  const read = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of worker.storage.read(key)) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const count = (name: string) => sent.filter((s) => s === name).length;

  it('streams a multi-part file to the bucket under the same key layout, exact bytes, with its record', async () => {
    const big = bytes(12 * 1024 * 1024 + 5, 31);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'big.wav', content: big },
        { filename: 'ep.mp3', content: bytes(1000, 32) },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok((await read(`account/${p.uuid}/big.wav`)).equals(big));
    assert.ok((await read(`account/${p.uuid}/ep.mp3`)).equals(bytes(1000, 32)));
    const record = (await worker.storage.readJson(`account/${p.uuid}/auphonic-production.json`)) as { production: { uuid: string } };
    assert.equal(record.production.uuid, p.uuid);
    // Each object keeps the media type its source gave, for whoever serves the bucket (a CDN, PUBLIC_FILES_URL).
    for (const [name, type] of [
      ['big.wav', 'audio/wav'],
      ['ep.mp3', 'audio/mpeg'],
    ]) {
      const head = await fetch(`${s3.endpoint}/${s3.bucket}/media/account/${p.uuid}/${name}`, { method: 'HEAD' });
      assert.equal(head.status, 200, name);
      assert.equal(head.headers.get('content-type'), type, name);
    }
  });

  it('leaves nothing under the final key when the checksum does not match, and aborts the multipart upload', async () => {
    sent.length = 0;
    const p = await f.sim.addProduction({
      files: [{ filename: 'bad.wav', content: bytes(11 * 1024 * 1024, 33), checksum: 'f'.repeat(32) }],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.match(end.result?.outputs?.[0]?.reason ?? '', /checksum/);
    assert.equal(await worker.storage.stat(`account/${p.uuid}/bad.wav`), null);
    assert.ok(count('AbortMultipartUploadCommand') >= 1);
    assert.equal(count('CompleteMultipartUploadCommand'), 0);
  });

  it('resumes a cut download into the same multipart upload (parts reused), exact bytes', async () => {
    sent.length = 0;
    const content = bytes(12 * 1024 * 1024, 34);
    const p = await f.sim.addProduction({ files: [{ filename: 'cut.wav', content }] });
    f.sim.inject({ target: 'storage', kind: 'cut', afterBytes: 7 * 1024 * 1024, uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok((await read(`account/${p.uuid}/cut.wav`)).equals(content));
    assert.equal(count('CreateMultipartUploadCommand'), 1, 'one multipart upload, continued');
    assert.equal(count('AbortMultipartUploadCommand'), 0);
  });

  it('starts the upload over cleanly when the source cannot resume', async () => {
    sent.length = 0;
    const content = bytes(12 * 1024 * 1024, 35);
    const p = await f.sim.addProduction({ files: [{ filename: 'again.wav', content }] });
    f.sim.inject({ target: 'storage', kind: 'cut', afterBytes: 7 * 1024 * 1024, uuid: p.uuid });
    f.sim.inject({ target: 'storage', kind: 'no-range', uuid: p.uuid });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok((await read(`account/${p.uuid}/again.wav`)).equals(content));
    assert.equal(count('AbortMultipartUploadCommand'), 1, 'the first multipart upload aborted');
    assert.equal(count('CreateMultipartUploadCommand'), 2);
  });

  /** A proxy in front of s3rver that can answer for it (503), or take a request and never answer. */
  const startProxy = async (decide: (req: IncomingMessage) => 'forward' | 'slow-down' | 'stall') => {
    const proxy = createServer((req, res) => {
      const what = decide(req);
      if (what === 'stall') return void req.resume();
      if (what === 'slow-down') {
        req.resume();
        res
          .writeHead(503, { 'content-type': 'application/xml' })
          .end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      }
      const upstream = request(new URL(req.url ?? '/', s3.endpoint), { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    return {
      endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      close() {
        proxy.closeAllConnections();
        proxy.close();
      },
    };
  };
  const isPart = (req: IncomingMessage) => req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');

  it('rides out an S3 outage (503 SlowDown) with retries and backoff, exact bytes in the end', async () => {
    let failures = 0;
    const proxy = await startProxy(() => (failures > 0 && failures-- > 0 ? 'slow-down' : 'forward'));
    const flaky = await f.startWorker({ ...s3Env, S3_ENDPOINT: proxy.endpoint });
    try {
      await worker.destroy();
      failures = 12;
      const content = bytes(6 * 1024 * 1024, 36);
      const p = await f.sim.addProduction({ files: [{ filename: 'outage.wav', content }] });
      const end = await f.settled(await f.enqueue(p.uuid));
      assert.equal(end.state, 'completed', end.reason);
      assert.equal(failures, 0, 'the outage happened');
      assert.ok((await read(`account/${p.uuid}/outage.wav`)).equals(content));
      assert.ok(f.detailCalls(p.uuid) >= 2, 'the job itself was retried after the SDK gave up');
    } finally {
      await flaky.destroy();
      proxy.close();
    }
  });

  it('gives up on an upload the server stopped answering (S3 timeouts), and stores the file on a later try', async () => {
    let stalls = 1;
    const proxy = await startProxy((req) => (isPart(req) && stalls > 0 && stalls-- > 0 ? 'stall' : 'forward'));
    const timed = await f.startWorker({
      ...s3Env,
      S3_ENDPOINT: proxy.endpoint,
      S3_SOCKET_TIMEOUT_MS: '1000',
      S3_REQUEST_TIMEOUT_MS: '2000',
    });
    try {
      const content = bytes(6 * 1024 * 1024, 37);
      const p = await f.sim.addProduction({ files: [{ filename: 'stall.wav', content }] });
      const end = await f.settled(await f.enqueue(p.uuid));
      assert.equal(end.state, 'completed', end.reason);
      assert.equal(stalls, 0, 'a part upload was left unanswered');
      assert.ok((await read(`account/${p.uuid}/stall.wav`)).equals(content));
    } finally {
      await timed.destroy();
      proxy.close();
    }
  });

  it('says so on /healthz while a job makes no progress, and recovers when it moves again', async () => {
    let stalling = true;
    const proxy = await startProxy((req) => (isPart(req) && stalling ? 'stall' : 'forward'));
    const watched = await f.startWorker({ ...s3Env, S3_ENDPOINT: proxy.endpoint, NO_PROGRESS_TIMEOUT: '1s', S3_SOCKET_TIMEOUT_MS: '4000' });
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${watched.metricsPort}/healthz`);
      return { status: res.status, body: (await res.json()) as { reason?: string } };
    };
    try {
      const content = bytes(12 * 1024 * 1024, 38);
      const p = await f.sim.addProduction({ files: [{ filename: 'stuck.wav', content }] });
      const job = await f.enqueue(p.uuid);
      const stuck = await waitFor(async () => {
        const h = await health();
        return h.status === 503 ? h : null;
      }, '/healthz to report the stuck job');
      assert.match(stuck.body.reason ?? '', /made no progress/);
      stalling = false;
      const end = await f.settled(job);
      assert.equal(end.state, 'completed', end.reason);
      assert.equal((await health()).status, 200);
    } finally {
      await watched.destroy();
      proxy.close();
    }
  });

  it('refuses to start with a missing bucket or bad credentials, naming the setting', async () => {
    const env = { ...f.env, ...s3Env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    // EX_CONFIG (78), as any bad setting: the storage the settings point at is not there, or refuses them.
    const missing = spawnService('worker', { ...env, STORAGE_URL: 's3://no-such-bucket/x' });
    assert.equal(await missing.exited, 78);
    assert.match(missing.output(), /STORAGE_URL: bucket "no-such-bucket" does not exist/);
    const refused = spawnService('worker', { ...env, AWS_ACCESS_KEY_ID: 'WRONG' });
    assert.equal(await refused.exited, 78);
    assert.match(refused.output(), /AWS_ACCESS_KEY_ID/);
    assert.ok(!refused.output().includes('S3RVER'), 'the secret is not echoed');
  });
});

describe('worker with S3 storage: idle slots take ranges of an output, in whole parts', () => {
  const MiB = 1024 * 1024;
  let f: WorkerFixture;
  let s3: TestS3;
  let spoolDir: string;
  let s3Env: Record<string, string>;
  before(async () => {
    f = await startFixture();
    s3 = await startS3();
    spoolDir = await mkdtemp(join(tmpdir(), 'worker-spool-'));
    s3Env = { ...s3Settings(s3, 'ranges'), DOWNLOAD_CONCURRENCY: '3', DOWNLOAD_SPLIT_MIN_MB: '5' };
  });
  after(async () => {
    await f.close();
    await s3.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  /** A worker whose spools go to `spoolDir` (the temporary directory, as TMPDIR names it). */
  const startWorker = async (env: Record<string, string> = {}) => {
    const before = process.env.TMPDIR;
    process.env.TMPDIR = spoolDir;
    try {
      return await f.startWorker({ ...s3Env, ...env });
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  };
  /** A small output and a large one, every connection at 8 MB/s: a slot falls idle early. */
  const production = async (seed: number) => {
    const small = { filename: 'a.mp3', content: bytes(200_000, seed) };
    const big = { filename: 'b.flac', content: bytes(21 * MiB + 7, seed + 1) };
    const p = await f.sim.addProduction({ files: [small, big] });
    for (const { filename } of [small, big])
      f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 8_000_000, times: 100, uuid: p.uuid, filename });
    return { p, small, big };
  };
  const read = async (worker: WorkerService, key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of worker.storage.read(key)) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const rangeStarts = (uuid: string) =>
    f.sim.requests
      .filter((r) => r.origin === 'storage' && r.path.includes(uuid) && r.path.endsWith('/b.flac') && r.status === 206)
      .map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]));
  /** Spool files by name in the temporary directory (where Node keeps its compile cache too). */
  const spoolFiles = async () => (await readdir(spoolDir)).filter((name) => name.startsWith('auphonic-bridge-spool-'));
  /** The numbers of the parts uploaded for b.flac, as they are sent. */
  const partNumbers = (worker: WorkerService) => {
    const parts: number[] = [];
    (worker.storage as S3Driver).client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string; PartNumber?: number };
        if (context.commandName === 'UploadPartCommand' && input.Key?.endsWith('/b.flac')) parts.push(input.PartNumber ?? 0);
        return next(args);
      },
      { step: 'initialize', name: 'part-numbers' },
    );
    return parts;
  };
  /** In how many ranges the log says it came (the field is there only for more than one). */
  const rangesLogged = (uuid: string) => {
    const line = f.logs.records().find((l) => l.uuid === uuid && l.filename === 'b.flac' && l.msg === 'file stored');
    assert.ok(line, 'the file is logged as stored');
    return Number(line.ranges ?? 1);
  };

  it('stores the exact bytes, each range starting on a part boundary, each part once, no spool file left', async (t) => {
    const worker = await startWorker();
    t.after(() => worker.destroy());
    const parts = partNumbers(worker);
    const { p, small, big } = await production(41);
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok((await read(worker, `account/${p.uuid}/a.mp3`)).equals(small.content));
    assert.ok((await read(worker, `account/${p.uuid}/b.flac`)).equals(big.content));
    const starts = rangeStarts(p.uuid);
    assert.ok(starts.length >= 1, 'a range of it was fetched on the side');
    assert.ok(
      starts.every((start) => start > 0 && start % (5 * MiB) === 0),
      `ranges from ${starts}`,
    );
    assert.ok(rangesLogged(p.uuid) >= 2, 'the log says in how many ranges');
    assert.deepEqual(
      [...parts].sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
      `parts sent: ${parts}`,
    );
    assert.deepEqual(await spoolFiles(), [], 'no spool file left');
  });

  it('rides out connections cut mid-part, the head and the ranges resumed where they were, each part once', async (t) => {
    const worker = await startWorker();
    t.after(() => worker.destroy());
    const parts = partNumbers(worker);
    const { p, big } = await production(45);
    // The next six answers for it break after 1.5 MiB: the head's, and those of the ranges taken.
    f.sim.inject({ target: 'storage', kind: 'cut', afterBytes: 1.5 * MiB, times: 6, uuid: p.uuid, filename: 'b.flac' });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.ok((await read(worker, `account/${p.uuid}/b.flac`)).equals(big.content));
    // A range is taken on a part boundary, above where the head stops; the head resumes below it.
    const starts = rangeStarts(p.uuid);
    const firstRange = Math.min(...starts.filter((start) => start % (5 * MiB) === 0));
    assert.ok(
      starts.some((start) => start > firstRange && start % (5 * MiB) !== 0),
      `a range resumed mid-part where it broke: ${starts}`,
    );
    assert.ok(rangesLogged(p.uuid) >= 2, 'split as well');
    assert.deepEqual(
      [...parts].sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
  });

  it('leaves no spool file when killed mid-range (SIGKILL), and another worker stores the exact bytes', async () => {
    const { p, small, big } = await production(47);
    // A dead worker's job is taken over within about 3 s.
    const env = { ...f.env, ...s3Env, ...s3Credentials(s3), TMPDIR: spoolDir, LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
    const first = spawnService('worker', env);
    let second: ReturnType<typeof spawnService> | undefined;
    try {
      const job = await f.enqueue(p.uuid);
      // A range asked of Auphonic's download link (storage's answer is logged only when done).
      const rangeAsked = () =>
        f.sim.requests.find((r) => r.origin === 'api' && r.path.includes(p.uuid) && r.path.endsWith('/b.flac') && r.range);
      await waitFor(rangeAsked, 'a slot that had the small output to take a range of the big one', 20_000);
      // The range's spool is open, and already without a name: only the process holds it.
      const spools = async () => {
        const fds = await readdir(`/proc/${first.child.pid}/fd`).catch((): string[] => []);
        const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${first.child.pid}/fd/${fd}`).catch(() => '')));
        return targets.filter((t) => t.startsWith(join(spoolDir, 'auphonic-bridge-spool-')));
      };
      const open = await waitFor(async () => ((await spools()).length > 0 ? spools() : null), 'the range to be spooled', 10_000);
      assert.ok(
        open.every((t) => t.endsWith(' (deleted)')),
        `unlinked while open: ${open}`,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      assert.deepEqual(await spoolFiles(), [], 'no spool file left in the temporary directory');
      second = spawnService('worker', env);
      const end = await f.settled(job);
      assert.equal(end.state, 'completed', end.reason);
      for (const { filename, content } of [small, big]) {
        const res = await fetch(`${s3.endpoint}/${s3.bucket}/ranges/account/${p.uuid}/${filename}`);
        assert.equal(res.status, 200, filename);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(content), filename);
      }
    } finally {
      await first.stop('SIGKILL');
      await second?.stop('SIGTERM');
    }
  });

  it('never splits with DOWNLOAD_SPLIT_SPOOL_MB=0, and still stores the exact bytes', async () => {
    const worker = await startWorker({ DOWNLOAD_SPLIT_SPOOL_MB: '0' });
    try {
      const { p, big } = await production(43);
      const end = await f.settled(await f.enqueue(p.uuid));
      assert.equal(end.state, 'completed', end.reason);
      assert.ok((await read(worker, `account/${p.uuid}/b.flac`)).equals(big.content));
      assert.deepEqual(rangeStarts(p.uuid), []);
      assert.equal(rangesLogged(p.uuid), 1);
    } finally {
      await worker.destroy();
    }
  });

  it('refuses to start when the temporary directory cannot hold a spool, naming the setting', async () => {
    // A file where the directory should be (a missing directory would be made by Node's compile cache).
    const notADirectory = join(spoolDir, 'not-a-directory');
    await writeFile(notADirectory, '');
    const env = { ...f.env, ...s3Env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', TMPDIR: notADirectory };
    const refused = spawnService('worker', env);
    try {
      // EX_CONFIG, as for any bad setting, the reason said once and without a stack.
      assert.equal(await Promise.race([refused.exited, sleep(20_000).then(() => 'still running')]), 78);
      assert.equal(refused.output().match(/cannot write a spool file/g)?.length, 1, refused.output());
      assert.doesNotMatch(refused.output(), /"stack"/);
      assert.match(refused.output(), /DOWNLOAD_SPLIT_SPOOL_MB: cannot write a spool file in .*not-a-directory \(ENOTDIR\)/);
    } finally {
      await refused.stop('SIGKILL');
    }
  });
});
