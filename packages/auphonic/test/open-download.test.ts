import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuphonicClient } from '../src/client.ts';

describe('openDownload', () => {
  let server: Server;
  let base: URL;
  before(async () => {
    // Headers, a little of the body, then the connection is reset while the caller is busy elsewhere.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.resetAndDestroy(), 30);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('keeps a reset that comes before the body is read for its reader, instead of crashing the process', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const client = new AuphonicClient({ baseUrl: base, token: 'token-0123456789' });
      const res = await client.openDownload(new URL('/file.mp3', base));
      assert.equal(res.statusCode, 200);
      // e.g. an S3 upload restarting before the first read
      await sleep(300);
      await assert.rejects(async () => {
        for await (const _chunk of res.body) {
          // reading what arrived, then the reset
        }
      });
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe("openDownload's redirects off Auphonic's origin (SSRF)", () => {
  // Auphonic, whose download answers 302 to `?to=`; and an internal endpoint of the worker's network.
  let auphonic: Server;
  let internal: Server;
  let base: URL;
  let internalPort: number;
  let internalHits = 0;
  before(async () => {
    auphonic = createServer((req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) return void res.writeHead(302, { location: to }).end();
      res.writeHead(200, { 'content-length': 5 }).end('audio');
    });
    internal = createServer((_req, res) => {
      internalHits += 1;
      res.writeHead(200, { 'content-length': 6 }).end('secret');
    });
    for (const s of [auphonic, internal]) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    base = new URL(`http://127.0.0.1:${(auphonic.address() as { port: number }).port}`);
    internalPort = (internal.address() as { port: number }).port;
  });
  after(() => {
    auphonic.close();
    internal.close();
  });

  // Auphonic on loopback here stands for a public Auphonic: privateRedirects false, as it defaults to for one.
  const client = () => new AuphonicClient({ baseUrl: base, token: 'token-0123456789', privateRedirects: false });
  const redirectTo = (to: string) => new URL(`/api/download/audio-result/u/a.mp3?to=${encodeURIComponent(to)}`, base);

  for (const [what, to] of [
    ['a loopback address', () => `http://127.0.0.1:${internalPort}/latest/meta-data`],
    ['a name that resolves to one', () => `http://localhost:${internalPort}/latest/meta-data`],
    ['a link-local address (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data'],
  ] as const) {
    it(`refuses one to ${what}, for good and without connecting`, async () => {
      await assert.rejects(client().openDownload(redirectTo(to())), (err: { code?: string; retryable?: boolean; message?: string }) => {
        assert.deepEqual([err.code, err.retryable], ['ERR_DOWNLOAD_FOREIGN_HOST', false], err.message);
        return true;
      });
      assert.equal(internalHits, 0);
    });
  }

  it('follows one on Auphonic’s own origin, and any when Auphonic itself is on such an address (a simulator)', async () => {
    const same = await client().openDownload(redirectTo(new URL('/api/download/audio-result/u/b.mp3', base).toString()));
    assert.equal(same.statusCode, 200);
    same.body.destroy();
    const local = new AuphonicClient({ baseUrl: base, token: 'token-0123456789' });
    const res = await local.openDownload(redirectTo(`http://127.0.0.1:${internalPort}/file`));
    assert.equal(res.statusCode, 200);
    res.body.destroy();
    assert.equal(internalHits, 1);
  });
});
