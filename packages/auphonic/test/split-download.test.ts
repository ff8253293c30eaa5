import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuphonicClient } from '../src/client.ts';
import { type DownloadSink, downloadInto } from '../src/download.ts';
import { type RangeSink, SplitDownload } from '../src/split-download.ts';

const DATA = randomBytes(4 * 1024 * 1024);
const MD5 = createHash('md5').update(DATA).digest('hex');
const CHUNK = 64 * 1024;

/** A real file, written in place as the directory driver writes it. */
class FileSink implements DownloadSink, RangeSink {
  bytesWritten = 0;
  readonly path: string;
  readonly fh: FileHandle;
  constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.fh = fh;
  }
  static async create(dir: string, name: string): Promise<FileSink> {
    const path = join(dir, name);
    return new FileSink(path, await open(path, 'w+'));
  }
  async write(chunk: Uint8Array): Promise<void> {
    const at = this.bytesWritten;
    this.bytesWritten += chunk.length;
    await this.fh.write(chunk, 0, chunk.length, at);
  }
  /** A disk that fills up: writes of ranges fail. */
  full = false;
  async writeAt(chunk: Uint8Array, position: number): Promise<void> {
    if (this.full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await this.fh.write(chunk, 0, chunk.length, position);
  }
  async *readRange(start: number, end: number): AsyncIterable<Buffer> {
    yield* createReadStream(this.path, { start, end: end - 1 });
  }
  async restart(): Promise<void> {
    await this.fh.truncate(0);
    this.bytesWritten = 0;
  }
}

/** A sink that takes ranges only on its parts' boundaries and within a budget of room (as S3 does). */
class PartedSink extends FileSink {
  readonly align = 512 * 1024;
  static readonly ROOM = 1536 * 1024;
  left = PartedSink.ROOM;
  /** Most room ever claimed at once. */
  most = 0;
  room(): number {
    return this.left;
  }
  reserve(bytes: number): () => void {
    this.left -= bytes;
    this.most = Math.max(this.most, PartedSink.ROOM - this.left);
    return () => {
      this.left += bytes;
    };
  }
}

describe('SplitDownload: idle slots take ranges of a running download', () => {
  let server: Server;
  let base: URL;
  let dir: string;
  /** Range starts asked for, by path. */
  const ranges = new Map<string, number[]>();
  let blipped = false;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'split-'));
    server = createServer((req, res) => {
      const path = req.url ?? '';
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      if (req.headers.range) ranges.set(path, [...(ranges.get(path) ?? []), start]);
      const asked = ranges.get(path)?.length ?? 0;
      if (path === '/no-ranges' || !req.headers.range) return void paced(res, 200, 0);
      if (path === '/fails' && asked > 1) return void res.writeHead(500).end();
      // One hiccup where the cut range is asked for again (from just past where it broke): a 503, then served.
      const firstStart = ranges.get(path)?.[0] ?? 0;
      if (path === '/blip' && !blipped && asked > 1 && start > firstStart && start <= firstStart + 128 * 1024 + CHUNK) {
        blipped = true;
        return void res.writeHead(503).end();
      }
      const body = path === '/corrupt' ? Buffer.from(DATA) : DATA;
      if (path === '/corrupt') body[start] = (body[start] as number) ^ 0xff;
      // Its first range cut after 128 KiB: resumed, or (on /fails) refused from then on.
      const cut = (path === '/cut' || path === '/fails' || path === '/blip') && asked === 1 ? 128 * 1024 : undefined;
      paced(res, 206, start, body, cut);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A link of about 6 MiB/s per connection: ranges taken on the side finish well before the head would. */
  function paced(res: ServerResponse, status: number, start: number, body = DATA, cut?: number): void {
    const headers: Record<string, string | number> = { 'content-type': 'audio/mpeg', 'content-length': body.length - start };
    if (status === 206) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(status, headers);
    let at = start;
    const tick = () => {
      if (res.destroyed) return;
      if (cut !== undefined && at - start >= cut) return void res.destroy();
      if (at >= body.length) return void res.end();
      const next = Math.min(at + CHUNK, body.length);
      res.write(body.subarray(at, next));
      at = next;
      setTimeout(tick, 10);
    };
    tick();
  }

  let lastSink: FileSink | undefined;
  const client = () => new AuphonicClient({ baseUrl: base, token: 'token-0123456789' });

  /** The head, and two idle slots helping as the worker's would, each as long as there is a range to take. */
  async function download(path: string, name: string, opts: { expectedSize?: number; full?: boolean; parted?: boolean } = {}) {
    const file = await FileSink.create(dir, name);
    const sink = opts.parted ? new PartedSink(file.path, file.fh) : file;
    sink.full = opts.full === true;
    const url = new URL(path, base);
    const total = opts.expectedSize ?? DATA.length;
    const split = new SplitDownload({
      client: client(),
      url,
      total,
      minRange: 256 * 1024,
      sink,
      headPos: () => sink.bytesWritten,
      maxResumes: 2,
    });
    const head = downloadInto(client(), sink, { url, expectedSize: total, expectedMd5: MD5, maxResumes: 2, split });
    lastSink = sink;
    const slots = new AbortController();
    const slot = async (share: number) => {
      await sleep(50);
      while (!slots.signal.aborted) {
        if (split.offer() > 0) await split.help(slots.signal, { share });
        else await sleep(5);
      }
    };
    const helping = Promise.all([slot(1 / 3), slot(1 / 2)]);
    try {
      return { result: await head, split, sink };
    } finally {
      slots.abort();
      await helping.catch(() => {});
      await sink.fh.close();
    }
  }

  it('stores the very bytes, MD5 checked, with ranges fetched on the side', async () => {
    const { result, split, sink } = await download('/file', 'file.bin');
    assert.equal(result.md5, MD5);
    assert.equal(result.size, DATA.length);
    assert.ok(split.helped >= 2, `ranges taken: ${split.helped}`);
    assert.ok(split.headEnd < DATA.length / 2, `the head stopped at ${split.headEnd}`);
    assert.ok(Buffer.compare(await readFile(sink.path), DATA) === 0);
  });

  it("starts every range on the sink's part boundaries, within the room it has, claimed once for a range split again", async () => {
    const { result, split, sink } = await download('/parted', 'parted.bin', { parted: true });
    assert.equal(result.md5, MD5);
    assert.ok(split.helped >= 2, `ranges taken: ${split.helped}`);
    const starts = ranges.get('/parted') ?? [];
    assert.ok(
      starts.every((start) => start % (512 * 1024) === 0),
      `ranges asked from ${starts}`,
    );
    const parted = sink as PartedSink;
    assert.ok(parted.most <= PartedSink.ROOM && parted.most > 0, `room claimed at most: ${parted.most}`);
    assert.ok(DATA.length - split.headEnd <= PartedSink.ROOM, `the helpers took ${DATA.length - split.headEnd} bytes`);
    assert.ok(Buffer.compare(await readFile(sink.path), DATA) === 0);
  });

  it('tells its idle slots when the sink has room again, until it is stopped', async () => {
    let room = 0;
    const listeners = new Set<() => void>();
    const sink: RangeSink = {
      align: 512 * 1024,
      room: () => room,
      reserve: () => () => {},
      onRoomFreed: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      writeAt: async () => {},
      readRange: async function* () {},
    };
    const split = new SplitDownload({
      client: client(),
      url: new URL('/file', base),
      total: DATA.length,
      minRange: 256 * 1024,
      sink,
      headPos: () => 0,
      maxResumes: 0,
    });
    let told = 0;
    split.onChange = () => {
      told += 1;
    };
    assert.equal(split.offer(), 0, 'no room: nothing to offer');
    room = 2 * 1024 * 1024;
    for (const listener of listeners) listener();
    assert.equal(told, 1, 'told once room came back');
    assert.equal(split.offer(), 2 * 1024 * 1024);
    await split.stop(new Error('done'));
    assert.equal(listeners.size, 0, 'unsubscribed once stopped');
  });

  it('leaves a source that answers a range with 200 to the head alone', async () => {
    const { result, split, sink } = await download('/no-ranges', 'no-ranges.bin');
    assert.equal(result.md5, MD5);
    assert.equal(split.helped, 0);
    assert.equal(split.offer(), 0, 'never asked again');
    assert.equal(ranges.get('/no-ranges')?.length, 1, 'one range asked for, then none');
    assert.ok(Buffer.compare(await readFile(sink.path), DATA) === 0);
  });

  it('continues a range whose connection broke from where it was', async () => {
    const { result, sink } = await download('/cut', 'cut.bin');
    assert.equal(result.md5, MD5);
    const [first = 0, ...later] = ranges.get('/cut') ?? [];
    assert.ok(
      later.some((start) => start > first && start <= first + 128 * 1024),
      `ranges asked: ${ranges.get('/cut')}`,
    );
    assert.ok(Buffer.compare(await readFile(sink.path), DATA) === 0);
  });

  it('refuses the file when a range brought other bytes (the MD5 of the whole does not match)', async () => {
    await assert.rejects(download('/corrupt', 'corrupt.bin'), { code: 'ERR_CHECKSUM_MISMATCH' });
  });

  it('rides out a server error where a broken range is asked for again, as the head does', async () => {
    const { result, split, sink } = await download('/blip', 'blip.bin');
    assert.equal(result.md5, MD5);
    assert.ok(split.helped > 0);
    assert.ok(blipped, `the resume was answered 503 (ranges asked: ${ranges.get('/blip')})`);
    assert.ok(Buffer.compare(await readFile(sink.path), DATA) === 0);
  });

  it('fails the download when a range cannot be finished (every resume answered 500)', async () => {
    await assert.rejects(download('/fails', 'fails.bin'), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'ERR_AUPHONIC_UNAVAILABLE', err.message);
      assert.match(err.message, /HTTP 500/);
      return true;
    });
  });

  it("fails at once, head included, on storage's failure to write a range", async () => {
    await assert.rejects(download('/file', 'full.bin', { full: true }), { code: 'ENOSPC' });
    // The head stopped with the range, far from where its part ends.
    assert.ok((lastSink?.bytesWritten ?? 0) < DATA.length / 2, `the head wrote ${lastSink?.bytesWritten}`);
  });

  it('takes no range of a source whose file is not the size announced, and reports the size', async () => {
    await assert.rejects(download('/file', 'short.bin', { expectedSize: DATA.length + 1000 }), { code: 'ERR_SIZE_MISMATCH' });
  });
});
