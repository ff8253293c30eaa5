import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
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
  let auphonicPort: number;
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
    auphonicPort = (auphonic.address() as { port: number }).port;
    internalPort = (internal.address() as { port: number }).port;
  });
  after(() => {
    auphonic.close();
    internal.close();
  });

  // DNS cannot be reached here: names resolve through this stand-in, as a resolver would answer them.
  const names: Record<string, string> = { 'storage.internal.example': '127.0.0.1', 'stand-in.example': '127.0.0.1' };
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const address = names[hostname] ?? (isIP(hostname) ? hostname : undefined);
    if (!address) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) return callback(null, [{ address, family: 4 }]);
    callback(null, address, 4);
  }) as unknown as typeof import('node:dns').lookup;
  // Auphonic on loopback stands for the public Auphonic with privateRedirects false, what it is for a public one.
  const client = (host: string, privateRedirects?: boolean) =>
    new AuphonicClient({
      baseUrl: new URL(`http://${host}:${auphonicPort}`),
      token: 'token-0123456789',
      lookup,
      ...(privateRedirects === undefined ? {} : { privateRedirects }),
    });
  const redirectTo = (host: string, to: string) =>
    new URL(`http://${host}:${auphonicPort}/api/download/audio-result/u/a.mp3?to=${encodeURIComponent(to)}`);
  const refused = async (to: string) => {
    try {
      await client('127.0.0.1', false).openDownload(redirectTo('127.0.0.1', to));
      return null;
    } catch (err) {
      return [(err as { code?: string }).code, (err as { retryable?: boolean }).retryable, (err as Error).message];
    }
  };

  it('refuses, for good and without connecting, one to a loopback or link-local literal', async () => {
    for (const to of [
      `http://127.0.0.1:${internalPort}/latest/meta-data`,
      'http://169.254.169.254/latest/meta-data',
      `http://localhost:${internalPort}/`,
    ]) {
      const [code, retryable, message] = (await refused(to)) ?? [];
      assert.deepEqual([code, retryable], ['ERR_DOWNLOAD_FOREIGN_HOST', false], to);
      assert.match(String(message), /DOWNLOAD_ALLOW_PRIVATE=true/);
    }
    assert.equal(internalHits, 0);
  });

  it('refuses one to a name that resolves to such an address when connecting, to be tried again (a DNS answer may change)', async () => {
    const [code, retryable] = (await refused(`http://storage.internal.example:${internalPort}/x`)) ?? [];
    assert.deepEqual([code, retryable], ['ERR_DOWNLOAD_FOREIGN_HOST', true]);
    assert.equal(internalHits, 0);
  });

  it('follows one on Auphonic’s own origin, and any when Auphonic itself is at a private address (a stand-in by name)', async () => {
    const own = await client('127.0.0.1', false).openDownload(redirectTo('127.0.0.1', `http://127.0.0.1:${auphonicPort}/b.mp3`));
    assert.equal(own.statusCode, 200);
    own.body.destroy();
    const standIn = await client('stand-in.example').openDownload(
      redirectTo('stand-in.example', `http://storage.internal.example:${internalPort}/x`),
    );
    assert.equal(standIn.statusCode, 200);
    standIn.body.destroy();
    assert.equal(internalHits, 1);
  });
});

describe("openDownload: Auphonic's own name looked up once it answers", () => {
  it('asks again after a failed lookup of it, rather than taking it for public for good', async () => {
    const storage = createServer((_req, res) => res.writeHead(200, { 'content-length': 2 }).end('ok'));
    const auphonic = createServer((_req, res) =>
      res.writeHead(302, { location: `http://storage.internal.example:${(storage.address() as { port: number }).port}/x` }).end(),
    );
    for (const s of [storage, auphonic]) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    // DNS cannot be reached here: a stand-in resolver. Its second answer for the stand-in Auphonic's name fails: the
    // first is for the connection to it, the second the client's own look at it, when the first redirect comes.
    let asked = 0;
    const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (hostname === 'stand-in.example' && ++asked === 2) return callback(Object.assign(new Error('EAI_AGAIN'), { code: 'EAI_AGAIN' }));
      const address = '127.0.0.1';
      if (options.all) return callback(null, [{ address, family: 4 }]);
      callback(null, address, 4);
    }) as unknown as typeof import('node:dns').lookup;
    try {
      const base = new URL(`http://stand-in.example:${(auphonic.address() as { port: number }).port}`);
      const client = new AuphonicClient({ baseUrl: base, token: 'token-0123456789', lookup });
      const url = new URL('/api/download/audio-result/u/a.mp3', base);
      // The first redirect comes while the lookup of Auphonic's name fails: taken for public, refused.
      await assert.rejects(client.openDownload(url), /DOWNLOAD_ALLOW_PRIVATE/);
      const res = await client.openDownload(url);
      assert.equal(res.statusCode, 200, 'the next one asks again, and finds the stand-in private');
      res.body.destroy();
    } finally {
      auphonic.close();
      storage.close();
    }
  });
});
