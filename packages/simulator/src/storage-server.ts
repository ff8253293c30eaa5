import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Faults } from './faults.ts';
import { logRequest, type RequestLogEntry } from './http-util.ts';
import type { Presigner } from './presign.ts';
import type { ProductionStore, StoredFile } from './productions.ts';

/** Result files, and what was uploaded with a production (its images). */
export const BUCKETS = { results: 'auphonic-results', uploads: 'auphonic-uploads' } as const;
export type Bucket = (typeof BUCKETS)[keyof typeof BUCKETS];

const CONTENT_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  json: 'application/json',
  srt: 'text/plain',
  vtt: 'text/vtt',
  txt: 'text/plain',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * The object storage Auphonic's download links redirect to: another origin,
 * presigned URLs only, and (like S3 and R2) a request that also carries an
 * Authorization header is refused.
 */
export function createStorageServer(deps: {
  productions: ProductionStore;
  presigner: Presigner;
  faults: Faults;
  log: RequestLogEntry[];
}): Server {
  return createServer((req, res) => {
    let sent = 0;
    logRequest(deps.log, 'storage', req, res, () => sent);
    void handle(req, res, deps, (n) => {
      sent += n;
    }).catch(() => res.destroy());
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { productions: ProductionStore; presigner: Presigner; faults: Faults },
  count: (n: number) => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://storage');
  const match = new RegExp(`^/(${BUCKETS.results}|${BUCKETS.uploads})/([^/]+)/([^/]+)$`).exec(url.pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return s3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed.');
  if (!match) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  const uuid = decodeURIComponent(match[2] ?? '');
  const filename = decodeURIComponent(match[3] ?? '');
  if (req.headers.authorization !== undefined) {
    return s3Error(
      res,
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  const check = deps.presigner.check(url.pathname, url.searchParams);
  if (check === 'bad-signature')
    return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  if (check === 'expired') return s3Error(res, 403, 'AccessDenied', 'Request has expired');
  const file = match[1] === BUCKETS.results ? deps.productions.file(uuid, filename) : deps.productions.upload(uuid, filename);
  if (!file) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');

  const failure = deps.faults.take('storage', ['status'], uuid, filename);
  if (failure) {
    const headers = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
    res.writeHead(failure.status, { ...headers, 'content-type': 'application/xml' });
    return void res.end('<Error><Code>InternalError</Code><Message>Simulated failure</Message></Error>');
  }

  const size = file.length;
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.range;
  const ignoreRange = range !== undefined && deps.faults.take('storage', ['no-range'], uuid, filename) !== undefined;
  if (range !== undefined && !ignoreRange) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
    if (!m || Number(m[1]) >= size || (m[2] !== '' && Number(m[2]) < Number(m[1]))) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    status = 206;
  }
  const headers: Record<string, string | number> = {
    'content-type': file.contentType ?? CONTENT_TYPES[file.ending] ?? 'application/octet-stream',
    'content-length': end - start + 1,
    'accept-ranges': 'bytes',
    etag: `"${file.md5}"`,
  };
  if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return void res.end();

  const cut = deps.faults.take('storage', ['cut'], uuid, filename);
  const slow = deps.faults.take('storage', ['slow'], uuid, filename);
  const corrupt = deps.faults.take('storage', ['corrupt'], uuid, filename);
  await sendBody(res, corrupt ? corrupted(chunksOf(file, start, end)) : chunksOf(file, start, end), {
    limit: cut ? cut.afterBytes : undefined,
    bytesPerSecond: slow?.bytesPerSecond,
    count,
  });
}

async function* chunksOf(file: StoredFile, start: number, end: number): AsyncGenerator<Buffer> {
  if (file.content) {
    for (let at = start; at <= end; at += 64 * 1024) yield file.content.subarray(at, Math.min(at + 64 * 1024, end + 1));
    return;
  }
  if (!file.path || end < start) return;
  for await (const chunk of createReadStream(file.path, { start, end, highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

/** The same bytes with the first one changed. */
async function* corrupted(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of chunks) {
    if (first && chunk.length > 0) {
      const copy = Buffer.from(chunk);
      copy[0] = (copy[0] ?? 0) ^ 0xff;
      first = false;
      yield copy;
    } else yield chunk;
  }
}

/**
 * Writes with backpressure; `limit` cuts the connection after that many bytes, `bytesPerSecond`
 * throttles like a link of that speed: paced against the clock from the first byte, so that the
 * time spent reading and writing does not slow it further (a sleep after every piece did: a
 * 32 MiB/s link gave 28 alone and 24 beside two others).
 */
async function sendBody(
  res: ServerResponse,
  chunks: AsyncGenerator<Buffer>,
  opts: { limit: number | undefined; bytesPerSecond: number | undefined; count: (n: number) => void },
): Promise<void> {
  let sent = 0;
  const started = performance.now();
  const slice = opts.bytesPerSecond ? Math.max(1, Math.floor(opts.bytesPerSecond / 20)) : Number.POSITIVE_INFINITY;
  try {
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) {
        if (res.destroyed) return;
        let piece = chunk.subarray(at, Math.min(chunk.length, at + slice));
        if (opts.limit !== undefined && sent + piece.length >= opts.limit) {
          piece = piece.subarray(0, opts.limit - sent);
          if (piece.length > 0) await write(res, piece);
          opts.count(piece.length);
          // Let the bytes leave before the connection is cut, like a proxy dying mid-body.
          await sleep(20);
          res.socket?.destroy();
          return;
        }
        await write(res, piece);
        sent += piece.length;
        opts.count(piece.length);
        at += piece.length;
        if (opts.bytesPerSecond) {
          const ahead = started + (sent / opts.bytesPerSecond) * 1000 - performance.now();
          if (ahead > 0) await sleep(ahead);
        }
      }
    }
    res.end();
  } finally {
    await chunks.return(undefined);
  }
}

async function write(res: ServerResponse, piece: Buffer): Promise<void> {
  if (res.write(piece)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
