import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { form, type IngressFixture, multipart, OLD_SECRET, SECRET, startIngress } from './helpers.ts';

const UUID = 'ShfFXnXeAiHoB8U4uFJQS3';
const DONE = { uuid: UUID, status: '3', status_string: 'Done' };

describe('production webhook', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress();
  });
  after(() => f.close());
  beforeEach(async () => {
    await f.queue.obliterate({ force: true });
  });

  const jobs = () => f.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);

  it('accepts a form-encoded webhook and queues a job with ids only', async () => {
    const res = await fetch(f.webhookUrl(), form(DONE));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'queued', uuid: UUID });
    const [job, ...rest] = await jobs();
    assert.equal(rest.length, 0);
    assert.equal(job?.data.uuid, UUID);
    assert.deepEqual(job?.data.owner, { kind: 'account' });
    assert.equal(job?.data.reportedStatus, 3);
    assert.ok(!JSON.stringify(job?.data).includes(SECRET));
  });

  it('accepts the multipart retry Auphonic sends after a failed form post', async () => {
    const res = await fetch(f.webhookUrl(), multipart({ uuid: UUID, status: '2', status_string: 'Error' }));
    assert.equal(res.status, 200);
    const [job] = await jobs();
    assert.equal(job?.data.reportedStatus, 2);
  });

  it("accepts curl's multipart with Expect: 100-continue", async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Expect: 100-continue',
      '-F',
      `uuid=${UUID}`,
      '-F',
      'status=3',
      '-F',
      'status_string=Done',
      f.webhookUrl(),
    ]);
    assert.equal(stdout, '200');
    assert.equal((await jobs()).length, 1);
  });

  it('queues one job when the same webhook arrives again (form then multipart, retries)', async () => {
    for (const init of [form(DONE), multipart(DONE), form(DONE)]) {
      assert.equal((await fetch(f.webhookUrl(), init)).status, 200);
    }
    assert.equal((await jobs()).length, 1);
  });

  it('accepts a uuid of another length than 22: a format assumption must not cost a webhook', async () => {
    for (const uuid of ['ShfFXnXeAiHoB8U4uFJQS', 'ShfFXnXeAiHoB8U4uFJQS3xyz']) {
      assert.equal((await fetch(f.webhookUrl(), form({ uuid, status: '3' }))).status, 200);
    }
    assert.deepEqual((await jobs()).map((j) => j.data.uuid).sort(), ['ShfFXnXeAiHoB8U4uFJQS', 'ShfFXnXeAiHoB8U4uFJQS3xyz']);
  });

  it('accepts the previous secret during rotation', async () => {
    assert.equal((await fetch(f.webhookUrl(OLD_SECRET), form(DONE))).status, 200);
  });

  it('answers 404 to a wrong secret, queues nothing and never logs the secret', async () => {
    const wrong = 'wrong-secret-that-should-not-be-logged';
    const res = await fetch(f.webhookUrl(wrong), form(DONE));
    assert.equal(res.status, 404);
    assert.equal((await jobs()).length, 0);
    assert.ok(f.logs.text.includes('unknown secret'));
    for (const s of [wrong, SECRET, OLD_SECRET]) assert.ok(!f.logs.text.includes(s), 'a secret reached the log');
  });

  // The form refusals are in refusals.test.ts (app.inject); these need a real multipart body.
  const refusals: Array<[string, RequestInit | (() => RequestInit), number, RegExp]> = [
    ['a multipart field over the limit', multipart({ ...DONE, status_string: 'x'.repeat(5_000) }), 413, /.+/],
    [
      'a multipart file part',
      () => {
        const body = new FormData();
        body.append('uuid', UUID);
        body.append('status', '3');
        body.append('file', new Blob(['x']), 'x.mp3');
        return { method: 'POST', body };
      },
      400,
      /file/,
    ],
    [
      'a multipart field declared JSON that is not',
      () => {
        const boundary = 'jsonfieldboundary';
        const part = (name: string, value: string, type?: string) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n${value}\r\n`;
        const body = `${part('uuid', UUID)}${part('status', '{bad', 'application/json')}--${boundary}--\r\n`;
        return { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
      },
      400,
      /JSON/,
    ],
    [
      'malformed multipart',
      { method: 'POST', body: '--nope\r\ngarbage', headers: { 'content-type': 'multipart/form-data; boundary=other' } },
      400,
      /.+/,
    ],
  ];
  for (const [what, init, status, reason] of refusals) {
    it(`refuses ${what} with ${status} and a reason, queueing nothing`, async () => {
      const res = await fetch(f.webhookUrl(), typeof init === 'function' ? init() : init);
      assert.equal(res.status, status);
      const body = (await res.json()) as { message?: string };
      assert.match(body.message ?? '', reason);
      assert.equal((await jobs()).length, 0);
    });
  }

  it('answers 404 on other paths and methods', async () => {
    assert.equal((await fetch(f.url('/webhooks/auphonic'), form(DONE))).status, 404);
    assert.equal((await fetch(f.webhookUrl())).status, 404);
  });
});

describe('hostile bodies', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress();
  });
  after(() => f.close());

  it('refuses floods of repeated fields at once (413) while /livez keeps answering within milliseconds', async () => {
    // 8,192 repeats of one name in 16 KiB: a parser that copies per repeat blocks for seconds.
    // Bodies are built before the clock starts: the client shares this process's event loop.
    const formBody = 'a&'.repeat(8192);
    const multipartBody = `${'--b\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n'.repeat(150)}--b--\r\n`;
    const formFlood = () =>
      fetch(f.webhookUrl(), { method: 'POST', body: formBody, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const multipartFlood = () =>
      fetch(f.webhookUrl(), { method: 'POST', body: multipartBody, headers: { 'content-type': 'multipart/form-data; boundary=b' } });
    // Warm: what is measured is the flood's cost, not a first request's.
    await Promise.all([formFlood(), multipartFlood(), fetch(f.url('/livez'))]);
    // The ingress runs in this process: its event loop's longest stall is what a parser's work costs,
    // whatever else the machine is doing (a wall-clock /livez time would also count a busy CPU).
    const stalls = monitorEventLoopDelay({ resolution: 5 });
    stalls.enable();
    let settled = false;
    const flood = Promise.all([formFlood(), formFlood(), formFlood(), formFlood(), multipartFlood(), multipartFlood()]).finally(() => {
      settled = true;
    });
    for (let samples = 0; !settled || samples < 20; samples++) assert.equal((await fetch(f.url('/livez'))).status, 200);
    const answers = await flood;
    stalls.disable();
    // The quadratic parser stalled for seconds per body; a linear one for a few milliseconds.
    assert.ok(stalls.max / 1e6 < 500, `the event loop stalled for ${Math.round(stalls.max / 1e6)} ms during the flood`);
    for (const res of answers) {
      assert.equal(res.status, 413);
      assert.match(((await res.json()) as { message: string }).message, /more than 20 fields/);
    }
    assert.equal((await f.queue.getJobs(['waiting'])).length, 0);
  });

  /**
   * A chunked multipart body (no content-length, so nothing to refuse up front) with
   * `padding` bytes before the first part (preamble) or after the last (epilogue),
   * written until the server answers or stops reading.
   */
  const chunkedMultipart = (where: 'preamble' | 'epilogue', padding: number) =>
    new Promise<{ status: number; connection: string | undefined; body: string; written: number }>((resolve, reject) => {
      const boundary = 'bridge-test-boundary';
      const parts = Object.entries(DONE)
        .map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join('');
      const req = request(f.webhookUrl(), {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      let written = 0;
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, written }));
      });
      // The server may close the connection once it has answered; that is not a failure.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const write = async () => {
        if (where === 'epilogue') req.write(`${parts}--${boundary}--\r\n`);
        while (written < padding && !answered && !req.destroyed) {
          written += chunk.length;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r).once('close', r));
        }
        if (!answered && !req.destroyed) req.end(where === 'preamble' ? `\r\n${parts}--${boundary}--\r\n` : '');
      };
      void write();
    });

  for (const where of ['preamble', 'epilogue'] as const) {
    it(`refuses a chunked multipart body with a 20 MB ${where} (413), reading little of it`, async () => {
      const { status, connection, body, written } = await chunkedMultipart(where, 20 * 1024 * 1024);
      assert.equal(status, 413, body);
      assert.equal(connection, 'close', 'the rest of the body is not read');
      assert.ok(written < 10 * 1024 * 1024, `the client could write ${written} bytes`);
      assert.equal((await f.queue.getJobs(['waiting'])).length, 0);
    });
  }

  it('still takes a webhook with a few extra fields', async () => {
    const res = await fetch(f.webhookUrl(), form({ ...DONE, a: '1', b: '2', c: '3' }));
    assert.equal(res.status, 200);
  });
});

describe('when Redis is unavailable', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress({}, { ownRedis: true });
  });
  after(() => f.close());

  it('answers 503 so that Auphonic tries again, and recovers when Redis is back', async () => {
    assert.equal((await fetch(f.url('/healthz'))).status, 200);
    await f.redis.stop?.();
    const res = await fetch(f.webhookUrl(), form(DONE));
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { message: string }).message, /try again/);
    assert.equal((await fetch(f.url('/healthz'))).status, 503);

    await f.redis.restart?.();
    const { waitFor } = await import('@auphonic-bridge/testing');
    await waitFor(async () => (await fetch(f.url('/healthz'))).status === 200, 'healthz after redis restart');
    assert.equal((await fetch(f.webhookUrl(), form(DONE))).status, 200);
    assert.equal((await f.queue.getJobs(['waiting'])).length, 1);
  });
});

describe('with ENQUEUE_WAIT_REPLICAS and no replica', () => {
  let f: IngressFixture;
  before(async () => {
    f = await startIngress({ ENQUEUE_WAIT_REPLICAS: '1', ENQUEUE_TIMEOUT_MS: '1500' });
  });
  after(() => f.close());

  it('says so at start, answers 503 once the wait runs out, and keeps /healthz answering meanwhile', async () => {
    assert.match(f.logs.text, /fewer replicas than ENQUEUE_WAIT_REPLICAS/);
    const started = Date.now();
    const webhook = fetch(f.webhookUrl(), form(DONE));
    // WAIT blocks the connection it is sent on: health checks must not queue behind it.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await fetch(f.url('/healthz'))).status, 200);
    assert.ok(Date.now() - started < 1000, 'healthz answered while the webhook waited');
    const res = await webhook;
    assert.equal(res.status, 503);
    assert.ok(Date.now() - started >= 1400, 'the wait ran for ENQUEUE_TIMEOUT_MS');
  });
});
