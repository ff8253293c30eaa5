import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AuphonicSimulator, sendWebhook } from '../src/index.ts';

const KEY = 'simulator-test-key';
const content = Buffer.from('0123456789'.repeat(1000));

describe('Auphonic simulator', () => {
  let sim: AuphonicSimulator;
  let uuid: string;
  before(async () => {
    sim = await AuphonicSimulator.start({
      apiKey: KEY,
      oauth: { clientId: 'cid', clientSecret: 'csecret-0123', redirectUris: ['http://bridge.test/oauth/callback'] },
    });
    uuid = (await sim.addProduction({ files: [{ filename: 'ep.mp3', content }] })).uuid;
  });
  after(() => sim.close());

  const api = (path: string, init: RequestInit = {}) => fetch(new URL(path, sim.baseUrl), { ...init, redirect: 'manual' });
  const auth = { authorization: `Bearer ${KEY}` };

  it('answers production details in the envelope, with bearer header or query parameter', async () => {
    for (const res of [
      await api(`/api/production/${uuid}.json`, { headers: auth }),
      await api(`/api/production/${uuid}.json?bearer_token=${KEY}`),
    ]) {
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        status_code: number;
        data: { uuid: string; status: number; output_files: Array<Record<string, unknown>> };
      };
      assert.equal(body.status_code, 200);
      assert.equal(body.data.uuid, uuid);
      const [file] = body.data.output_files;
      assert.equal(file?.checksum, createHash('md5').update(content).digest('hex'));
      assert.equal(file?.size, content.length);
      assert.equal(file?.download_url, new URL(`/api/download/audio-result/${uuid}/ep.mp3`, sim.baseUrl).href);
    }
  });

  it('answers 401 without credentials and 404 for an unknown production', async () => {
    assert.equal((await api(`/api/production/${uuid}.json`)).status, 401);
    const res = await api('/api/production/AAAAAAAAAAAAAAAAAAAAAA.json', { headers: auth });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { data: unknown }).data, null);
  });

  it('redirects downloads to a presigned URL on another origin that refuses an Authorization header', async () => {
    const res = await api(`/api/download/audio-result/${uuid}/ep.mp3`, { headers: auth });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(location.origin, sim.storageUrl.origin);
    assert.notEqual(location.origin, sim.baseUrl.origin);
    const ok = await fetch(location);
    assert.equal(ok.status, 200);
    assert.deepEqual(Buffer.from(await ok.arrayBuffer()), content);
    const refused = await fetch(location, { headers: auth });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /Only one auth mechanism allowed/);
    const forged = new URL(location);
    forged.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    assert.equal((await fetch(forged)).status, 403);
  });

  it('serves ranges, and 416 past the end', async () => {
    const location = (await api(`/api/download/audio-result/${uuid}/ep.mp3`, { headers: auth })).headers.get('location') ?? '';
    const part = await fetch(location, { headers: { range: 'bytes=9990-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 9990-9999/${content.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), content.subarray(9990));
    assert.equal((await fetch(location, { headers: { range: 'bytes=10000-' } })).status, 416);
  });

  it('hands out expired links and cuts bodies when told to, and logs what it served', async () => {
    sim.inject({ target: 'download', kind: 'expired-link', uuid });
    const expired = (await api(`/api/download/audio-result/${uuid}/ep.mp3`, { headers: auth })).headers.get('location') ?? '';
    const res = await fetch(expired);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Request has expired/);

    sim.inject({ target: 'storage', kind: 'cut', afterBytes: 1000, uuid });
    const location = (await api(`/api/download/audio-result/${uuid}/ep.mp3`, { headers: auth })).headers.get('location') ?? '';
    await assert.rejects(async () => Buffer.from(await (await fetch(location)).arrayBuffer()));
    await new Promise((r) => setTimeout(r, 50));
    const last = sim.requests.filter((r) => r.origin === 'storage').at(-1);
    assert.equal(last?.bytesSent, 1000);
  });

  it('lists chapters with input and output times and a cover, whose images redirect to storage like results', async () => {
    const cover = Buffer.from('cover bytes');
    const chapterArt = Buffer.from('chapter two art');
    const p = await sim.addProduction({
      files: [{ filename: 'ep.mp3', content }],
      image: { filename: 'cover.jpg', content: cover },
      chapters: [
        { title: 'Intro', start: 0, startOutput: 0 },
        {
          title: 'Topic',
          url: 'https://example.com/topic',
          start: 138,
          startOutput: 153.372585,
          image: { filename: 'two.png', content: chapterArt },
        },
        { title: 'Old style', start: 200, startOutput: null },
      ],
    });
    const details = ((await (await api(`/api/production/${p.uuid}.json`, { headers: auth })).json()) as { data: typeof p }).data;
    assert.equal(details.image, new URL(`/api/download/audio-upload/${p.uuid}/cover.jpg`, sim.baseUrl).href);
    assert.deepEqual(details.chapters, [
      { title: 'Intro', url: '', image: null, start: '00:00:00.000', start_sec: 0, start_output: '00:00:00.000', start_output_sec: 0 },
      {
        title: 'Topic',
        url: 'https://example.com/topic',
        image: new URL(`/api/download/audio-upload/${p.uuid}/two.png`, sim.baseUrl).href,
        start: '00:02:18.000',
        start_sec: 138,
        start_output: '00:02:33.373',
        start_output_sec: 153.372585,
      },
      { title: 'Old style', url: '', image: null, start: '00:03:20.000', start_sec: 200 },
    ]);
    for (const [url, bytes, type] of [
      [details.image, cover, 'image/jpeg'],
      [details.chapters[1]?.image, chapterArt, 'image/png'],
    ] as const) {
      const res = await fetch(url ?? '', { headers: auth, redirect: 'manual' });
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(location.origin, sim.storageUrl.origin);
      assert.equal((await fetch(location, { headers: auth })).status, 400, 'storage refuses the Authorization header');
      const image = await fetch(location);
      assert.equal(image.headers.get('content-type'), type);
      assert.deepEqual(Buffer.from(await image.arrayBuffer()), bytes);
    }
    assert.equal(sim.imageDownloadsStarted(p.uuid, 'two.png'), 1);

    const rerun = await sim.updateProduction(p.uuid, { image: null, chapters: [{ title: 'Only', start: 5, startOutput: 1 }] });
    assert.equal(rerun.image, null);
    assert.deepEqual(
      rerun.chapters.map((c) => [c.title, c.start_output_sec]),
      [['Only', 1]],
    );
    assert.equal((await api(new URL(details.image ?? '').pathname, { headers: auth })).status, 404, 'the old cover is gone');
  });

  it('answers errors inside an HTTP 200 envelope when told to', async () => {
    sim.inject({ target: 'details', kind: 'envelope-error', statusCode: 401, message: "Token doesn't exist", uuid });
    const res = await api(`/api/production/${uuid}.json`, { headers: auth });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status_code: 401,
      form_errors: {},
      error_code: null,
      error_message: "Token doesn't exist",
      data: null,
    });
  });

  it('runs the OAuth code flow, and updates a service for the same user and display_name', async () => {
    const user = sim.addUser({ username: 'host-user', authorizing: true });
    const authorize = await api(
      '/oauth2/authorize/?client_id=cid&redirect_uri=http://bridge.test/oauth/callback&response_type=code&state=abc',
    );
    const back = new URL(authorize.headers.get('location') ?? '');
    assert.equal(back.searchParams.get('state'), 'abc');
    const code = back.searchParams.get('code') ?? '';
    const form = {
      client_id: 'cid',
      client_secret: 'csecret-0123',
      redirect_uri: 'http://bridge.test/oauth/callback',
      grant_type: 'authorization_code',
      code,
    };
    const token = (await (await api('/oauth2/token/', { method: 'POST', body: new URLSearchParams(form) })).json()) as {
      access_token: string;
      expires_in: number;
    };
    assert.equal(token.expires_in, 315360000);
    const replay = await api('/oauth2/token/', { method: 'POST', body: new URLSearchParams(form) });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');

    const bearer = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' };
    const me = (await (await api('/api/user.json', { headers: bearer })).json()) as { data: { username: string } };
    assert.equal(me.data.username, 'host-user');
    for (const custom_data of [{ a: 1 }, { a: 2 }]) {
      const res = await api('/api/service/connect.json', {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ display_name: 'Host', webhook_url: 'http://bridge.test/webhooks/service/x', custom_data }),
      });
      assert.equal(res.status, 200);
    }
    assert.deepEqual(
      sim.services(user.userId).map((s) => s.custom_data),
      [{ a: 2 }],
    );
  });
});

describe('sendWebhook', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ type: string; body: string }> = [];
  let answers: Array<number | 'hang'> = [];
  before(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ type: req.headers['content-type'] ?? '', body });
      const answer = answers.shift() ?? 200;
      if (answer !== 'hang') res.writeHead(answer).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('posts a form, then the same fields as multipart when the form is refused', async () => {
    seen.length = 0;
    answers = [415, 200];
    const d = await sendWebhook(url, { uuid: 'u'.repeat(22), status: 3, status_string: 'Done' });
    assert.equal(d.ok, true);
    assert.deepEqual(
      d.attempts.map((a) => [a.format, a.status]),
      [
        ['form', 415],
        ['multipart', 200],
      ],
    );
    assert.equal(seen[0]?.type, 'application/x-www-form-urlencoded');
    assert.equal(seen[0]?.body, `uuid=${'u'.repeat(22)}&status=3&status_string=Done`);
    assert.match(seen[1]?.type ?? '', /^multipart\/form-data; boundary=/);
  });

  it('tries again after a timeout', async () => {
    answers = ['hang', 200];
    const d = await sendWebhook(url, { uuid: 'u'.repeat(22), status: 3, status_string: 'Done' }, { timeoutMs: 200, retryDelayMs: 10 });
    assert.equal(d.ok, true);
    assert.deepEqual(
      d.attempts.map((a) => a.error ?? a.status),
      ['timeout', 200],
    );
  });

  it('signs External Service webhooks HS256 with the client secret', async () => {
    const { signJwt } = await import('../src/webhook-sender.ts');
    const token = signJwt({ uuid: 'x', custom_data: { a: 1 } }, 'secret');
    const [h, p, s] = token.split('.');
    assert.equal(JSON.parse(Buffer.from(h ?? '', 'base64url').toString()).alg, 'HS256');
    assert.equal(s, createHmac('sha256', 'secret').update(`${h}.${p}`).digest('base64url'));
  });
});
