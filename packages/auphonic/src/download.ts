import { createHash, type Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuphonicClient, OpenedDownload } from './client.ts';
import { AuphonicError, errorForStatus, networkError, SinkFailure } from './errors.ts';
import { contentRange, headerValue } from './headers.ts';
import { quickDelay, resumeDelay } from './retry.ts';
import type { SplitDownload } from './split-download.ts';

/** Where the bytes go: a storage upload. Its own failures end the download as they are. */
export interface DownloadSink {
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /** The source's Content-Type, told before its body's first byte (storage may keep it for readers). */
  setContentType?(contentType: string): void;
  /** Drops what was written: the next byte written is byte 0. */
  restart(): Promise<void>;
}

export interface DownloadRequest {
  url: URL;
  expectedSize: number | null;
  /** MD5 hex, when Auphonic gave a checksum and it is to be verified. */
  expectedMd5: string | null;
  /** How often a body cut mid-way may continue (Range) within this call. */
  maxResumes: number;
  /**
   * The sink may already hold the source's first bytes (a dead worker's, resumed):
   * `hash` then covers exactly them.
   */
  hash?: Hash;
  /** A fresh download_url, when the link is gone (404): the production's details carry a new one. */
  refreshUrl?: () => Promise<URL>;
  /** More bytes than this (announced or received) are refused for good: ERR_DOWNLOAD_TOO_LARGE. */
  maxBytes?: number;
  /** Whether a body of this media type (lowercase, no parameters; '' when none) is wanted; if not: ERR_DOWNLOAD_WRONG_TYPE, for good. */
  acceptType?: (mediaType: string) => boolean;
  signal?: AbortSignal;
  /** Shared out in ranges when slots fall idle (split-download.ts): the head stops where they begin. */
  split?: SplitDownload;
  onBytes?: (bytes: number, total: number) => void;
  onRetry?: (info: { why: string; offset: number; delayMs: number }) => void;
}

/** The bytes did not check out against what Auphonic announced. Worth another try: a transfer can go wrong. */
export class DownloadMismatchError extends AuphonicError {
  /** What the bytes received really were. */
  readonly actual: { size: number; md5: string | null };

  constructor(code: 'ERR_SIZE_MISMATCH' | 'ERR_CHECKSUM_MISMATCH', message: string, actual: { size: number; md5: string | null }) {
    super(code, message, { retryable: true });
    this.actual = actual;
  }
}

/** What was stored, as it checked out. */
export interface Downloaded {
  size: number;
  md5: string;
  /** The media type the source gave (lowercase, no parameters), or null. */
  mediaType: string | null;
}

/**
 * Streams one file from a download_url into a sink with bounded memory, and
 * checks it: size and MD5 as Auphonic announced them. Within the call, a
 * refused or failed request is retried (quick, jittered, Retry-After
 * honoured up to the client's cap), a refused presigned link is replaced by
 * asking download_url again, a vanished one through `refreshUrl`, and a body
 * cut mid-way continues with Range (206) or starts over (200).
 */
export async function downloadInto(client: AuphonicClient, sink: DownloadSink, req: DownloadRequest): Promise<Downloaded> {
  const split = req.split;
  if (!split) return downloadHead(client, sink, req);
  try {
    return await downloadHead(client, sink, { ...req, signal: req.signal ? AbortSignal.any([req.signal, split.signal]) : split.signal });
  } catch (err) {
    // A range's failure stopped the head: that failure is the download's.
    await split.stop(err);
    throw split.failure ?? err;
  }
}

async function downloadHead(client: AuphonicClient, sink: DownloadSink, req: DownloadRequest): Promise<Downloaded> {
  const split = req.split;
  let url = req.url;
  let mediaType: string | null = null;
  let hash = req.hash ?? createHash('md5');
  let failures = 0;
  let resumes = 0;
  let refreshed = false;
  const startOver = async () => {
    if (split && split.helped > 0) {
      // Ranges were served from this source a moment ago: a start from scratch here would strand their bytes.
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'the source stopped serving ranges mid-download', { retryable: true });
    }
    await sink.restart();
    hash = createHash('md5');
  };
  const retryOrThrow = async (err: unknown, why: string) => {
    const delay = err instanceof AuphonicError && err.retryable ? quickDelay(failures, client.retries, err) : null;
    if (delay === null || failures >= client.retries.retries || req.signal?.aborted) throw err;
    failures += 1;
    req.onRetry?.({ why, offset: sink.bytesWritten, delayMs: delay });
    await sleep(delay, undefined, { signal: req.signal });
  };

  for (;;) {
    const offset = sink.bytesWritten;
    if (offset > 0 && offset === (split ? split.headEnd : req.expectedSize)) break;
    let res: OpenedDownload;
    try {
      res = await client.openDownload(url, { offset, signal: req.signal });
    } catch (err) {
      if (req.signal?.aborted) throw err;
      await retryOrThrow(err, `no answer (${(err as { code?: string }).code ?? 'error'})`);
      continue;
    }
    const from = res.url.origin === client.baseUrl.origin ? 'download' : 'storage';
    if (res.statusCode === 416 && offset > 0) {
      // The source has fewer bytes than we hold: what we hold is not its start.
      res.body.destroy();
      await startOver();
      await retryOrThrow(new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'range not satisfiable', { retryable: true }), 'range refused');
      continue;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      res.body.destroy();
      const what = from === 'storage' ? 'the download from object storage' : "the download from Auphonic's link";
      let err =
        errorForStatus(res.statusCode, what, { from, retryAfter: headerValue(res.headers['retry-after']) }) ??
        new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `unexpected HTTP ${res.statusCode} for a download`, {
          retryable: true,
          statusCode: res.statusCode,
        });
      if (err.code === 'ERR_AUPHONIC_NOT_FOUND' && req.refreshUrl && !refreshed) {
        refreshed = true;
        url = await req.refreshUrl();
        continue;
      }
      if (err.code === 'ERR_AUPHONIC_NOT_FOUND' && refreshed) {
        // Still listed (the refresh found it), yet not served: a file not there yet or briefly gone, not one gone for good.
        err = new AuphonicError(
          'ERR_DOWNLOAD_NOT_SERVED',
          `${what}: not found (HTTP ${res.statusCode}), though Auphonic lists the output`,
          {
            retryable: true,
            statusCode: res.statusCode,
          },
        );
      }
      await retryOrThrow(err, err.message);
      continue;
    }
    if (res.statusCode === 200 && offset > 0) {
      // The source ignored Range: the bytes come from the start again (should that be refused, the body is let go).
      await startOver().catch((err: unknown) => {
        res.body.destroy();
        throw err;
      });
    } else if (res.statusCode === 206 && contentRange(res.headers['content-range'])?.start !== offset) {
      res.body.destroy();
      await startOver();
      await retryOrThrow(
        new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'range answer started elsewhere', { retryable: true }),
        'bad range',
      );
      continue;
    }
    const refusal = unwanted(res, req);
    if (refusal) {
      res.body.destroy();
      throw refusal;
    }
    mediaType = mediaTypeOf(res.headers['content-type']) || null;
    const contentType = headerValue(res.headers['content-type'])?.trim() ?? '';
    if (contentType.length <= 200 && MEDIA_TYPE.test(contentType)) sink.setContentType?.(contentType);
    try {
      await copyBody(res.body, sink, hash, req);
      break;
    } catch (err) {
      if (err instanceof SinkFailure) throw err.cause;
      // Mismatches and refusals are verdicts on the bytes, not a broken connection.
      if (req.signal?.aborted || err instanceof AuphonicError) throw err;
      if (resumes >= req.maxResumes) throw networkError('download body', err);
      resumes += 1;
      const delay = resumeDelay(resumes);
      req.onRetry?.({ why: 'connection broke mid-body', offset: sink.bytesWritten, delayMs: delay });
      await sleep(delay, undefined, { signal: req.signal });
    }
  }

  const size = split ? await split.finish(hash) : sink.bytesWritten;
  const md5 = hash.digest('hex');
  if (req.expectedSize !== null && size !== req.expectedSize) {
    throw new DownloadMismatchError('ERR_SIZE_MISMATCH', `got ${size} bytes, Auphonic says ${req.expectedSize}`, { size, md5 });
  }
  if (req.expectedMd5 !== null && md5 !== req.expectedMd5.toLowerCase()) {
    throw new DownloadMismatchError('ERR_CHECKSUM_MISMATCH', `checksum ${md5} does not match Auphonic's ${req.expectedMd5}`, { size, md5 });
  }
  return { size, md5, mediaType };
}

/** A body the caller does not want, known from the headers alone: the wrong type, or announced too large. */
function unwanted(res: OpenedDownload, req: DownloadRequest): AuphonicError | null {
  const type = mediaTypeOf(res.headers['content-type']);
  if (req.acceptType && !req.acceptType(type)) {
    return new AuphonicError('ERR_DOWNLOAD_WRONG_TYPE', `the download is ${type || 'of no stated type'}, not what is wanted here`, {
      retryable: false,
    });
  }
  const total =
    res.statusCode === 206 ? Number(contentRange(res.headers['content-range'])?.total) : Number(headerValue(res.headers['content-length']));
  if (req.maxBytes !== undefined && Number.isFinite(total) && (total as number) > req.maxBytes) {
    return tooLarge(req.maxBytes, `${total} bytes announced`);
  }
  return null;
}

function tooLarge(maxBytes: number, what: string): AuphonicError {
  return new AuphonicError('ERR_DOWNLOAD_TOO_LARGE', `${what}, more than the ${maxBytes} allowed`, { retryable: false });
}

function mediaTypeOf(contentType: string | string[] | undefined): string {
  return (headerValue(contentType) ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

async function copyBody(body: AsyncIterable<Buffer>, sink: DownloadSink, hash: Hash, req: DownloadRequest): Promise<void> {
  for await (let chunk of body) {
    const headEnd = req.split?.headEnd;
    let last = false;
    if (headEnd !== undefined && headEnd < (req.split?.total ?? 0) && sink.bytesWritten + chunk.length >= headEnd) {
      // A helper has the bytes from here: the head's part ends.
      chunk = chunk.subarray(0, headEnd - sink.bytesWritten);
      last = true;
    }
    if (req.expectedSize !== null && sink.bytesWritten + chunk.length > req.expectedSize) {
      throw new DownloadMismatchError('ERR_SIZE_MISMATCH', `more bytes than the ${req.expectedSize} Auphonic announced`, {
        size: sink.bytesWritten + chunk.length,
        md5: null,
      });
    }
    if (req.maxBytes !== undefined && sink.bytesWritten + chunk.length > req.maxBytes) throw tooLarge(req.maxBytes, 'more bytes received');
    hash.update(chunk);
    try {
      await sink.write(chunk);
    } catch (err) {
      throw new SinkFailure('sink failed', { cause: err });
    }
    req.onBytes?.(chunk.length, sink.bytesWritten + (req.split?.helperBytes ?? 0));
    if (last) return;
  }
}

/** A Content-Type worth passing on to storage: a media type with parameters, of a sane length. */
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/;
