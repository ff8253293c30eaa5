import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AuphonicClient } from '../src/client.ts';
import { type DownloadSink, downloadInto } from '../src/download.ts';

/** Bytes kept in memory, as a storage upload would take them. */
class MemorySink implements DownloadSink {
  chunks: Buffer[] = [];
  /** What the sink was told the bytes are, and how many bytes it held then. */
  contentType: { value: string; atByte: number } | undefined;
  setContentType(value: string): void {
    this.contentType = { value, atByte: this.bytesWritten };
  }
  get bytesWritten(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(Buffer.from(chunk));
  }
  async restart(): Promise<void> {
    this.chunks = [];
  }
}

describe('downloadInto: a size cap and an accepted media type', () => {
  let server: Server;
  let base: URL;
  const hits = new Map<string, number>();
  before(async () => {
    server = createServer((req, res) => {
      hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
      const body = Buffer.alloc(30, 1);
      if (req.url === '/page.png') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hello</h1>');
      if (req.url === '/untyped.png') return void res.writeHead(200).end(body);
      if (req.url === '/odd-type.png') return void res.writeHead(200, { 'content-type': `image/png; x=${'y'.repeat(300)}` }).end(body);
      if (req.url === '/announced.png') return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': 30 }).end(body);
      if (req.url === '/chunked.png') {
        // No Content-Length: only counting what arrives can tell.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(body.subarray(0, 15));
        return void setTimeout(() => res.end(body.subarray(15)), 10);
      }
      res.writeHead(200, { 'content-type': 'image/PNG; charset=binary', 'content-length': 30 }).end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const client = () => new AuphonicClient({ baseUrl: base, token: 'token-0123456789' });
  const image = (path: string, sink: DownloadSink, maxBytes = 20) =>
    downloadInto(client(), sink, {
      url: new URL(path, base),
      expectedSize: null,
      expectedMd5: null,
      maxResumes: 3,
      maxBytes,
      acceptType: (type) => type.startsWith('image/'),
    });

  it('refuses a body of another media type, or of none, for good and without a byte', async () => {
    for (const path of ['/page.png', '/untyped.png']) {
      const sink = new MemorySink();
      await assert.rejects(image(path, sink), { code: 'ERR_DOWNLOAD_WRONG_TYPE', retryable: false }, path);
      assert.equal(sink.bytesWritten, 0);
      assert.equal(hits.get(path), 1, 'not retried: another try gets the same answer');
    }
  });

  it('refuses a body announced too large before reading it, and one that turns out too large while streaming', async () => {
    for (const path of ['/announced.png', '/chunked.png']) {
      const sink = new MemorySink();
      await assert.rejects(image(path, sink), { code: 'ERR_DOWNLOAD_TOO_LARGE', retryable: false }, path);
      assert.ok(sink.bytesWritten <= 20, `${path}: never more than the cap written (${sink.bytesWritten})`);
      assert.equal(hits.get(path), 1);
    }
  });

  it('takes what fits and is wanted, and says its media type', async () => {
    const sink = new MemorySink();
    const got = await image('/ok.png', sink, 30);
    assert.equal(got.size, 30);
    assert.equal(got.mediaType, 'image/png');
    assert.deepEqual(Buffer.concat(sink.chunks), Buffer.alloc(30, 1));
    // Storage keeps it for readers (S3's Content-Type): told before the first byte, as the source gave it.
    assert.deepEqual(sink.contentType, { value: 'image/PNG; charset=binary', atByte: 0 });
  });

  it('tells the sink no Content-Type of an absurd length', async () => {
    const sink = new MemorySink();
    const got = await image('/odd-type.png', sink, 30);
    assert.equal(got.mediaType, 'image/png');
    assert.equal(sink.contentType, undefined);
  });
});
