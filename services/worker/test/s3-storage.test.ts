import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { S3Driver } from '@auphonic-bridge/storage';
import { spawnService, startS3, type TestS3, waitFor } from '@auphonic-bridge/testing';
import type { WorkerService } from '../src/service.ts';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('worker with S3 storage (s3rver)', () => {
  let f: WorkerFixture;
  let s3: TestS3;
  let worker: WorkerService;
  let s3Env: Record<string, string>;
  const sent: string[] = [];
  before(async () => {
    f = await startFixture();
    s3 = await startS3();
    // The AWS SDK's own credential chain reads these.
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    s3Env = {
      STORAGE_DIR: '',
      STORAGE_URL: `s3://${s3.bucket}/media`,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: 'us-east-1',
      S3_PART_SIZE_MB: '5',
    };
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
    const missing = spawnService('worker', { ...env, STORAGE_URL: 's3://no-such-bucket/x' });
    assert.equal(await missing.exited, 1);
    assert.match(missing.output(), /STORAGE_URL: bucket \\"no-such-bucket\\" does not exist/);
    const refused = spawnService('worker', { ...env, AWS_ACCESS_KEY_ID: 'WRONG' });
    assert.equal(await refused.exited, 1);
    assert.match(refused.output(), /AWS_ACCESS_KEY_ID/);
    assert.ok(!refused.output().includes('S3RVER'), 'the secret is not echoed');
  });
});
