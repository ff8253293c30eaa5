import { createHash, type Hash } from 'node:crypto';
import { type AuphonicClient, type Downloaded, downloadInto, SplitDownload } from '@auphonic-bridge/auphonic';
import type { Logger } from '@auphonic-bridge/runtime';
import type { StorageDriver, Upload } from '@auphonic-bridge/storage';
import { outputFailure } from './fate.ts';
import type { PlannedDownload } from './outputs.ts';
import type { RangeHelp } from './range-help.ts';
import type { OutputRecord } from './record.ts';

export interface OutputDeps {
  client: AuphonicClient;
  storage: StorageDriver;
  downloadResumes: number;
  /** A download may be shared out in ranges of at least this many bytes (0: never). */
  splitMinBytes: number;
  /** Called with each chunk's size as it is stored (metrics). */
  onBytes?: (bytes: number) => void;
}

export interface OutputContext {
  log: Logger;
  signal?: AbortSignal;
  /** After every chunk stored, with the bytes so far. */
  onProgress?: (bytes: number) => void;
  /** The production's idle download slots, which may take ranges of this output. */
  rangeHelp?: RangeHelp;
  /** A fresh download URL for this output, when its link is gone. */
  refreshUrl: () => Promise<URL>;
  /**
   * A forced replay: a file in storage is kept only when `previous` (recorded since the replay) says
   * it was stored, never on its checksum alone: it may be the very file the replay is to fetch again.
   */
  forced?: boolean;
  /** A failed download's server asked for this long before the next try (Retry-After). */
  onRetryAfter?: (ms: number) => void;
}

/**
 * One output, to its fate: stored (verified, committed), or failed or refused
 * with the reason. Throws only what concerns the whole production (the token
 * refused, the production re-rendered, the job cancelled).
 */
export async function storeOutput(
  deps: OutputDeps,
  planned: PlannedDownload,
  previous: OutputRecord | undefined,
  ctx: OutputContext,
): Promise<OutputRecord> {
  const { filename, format, kind, key } = planned;
  const log = ctx.log.child({ filename });
  const which = { filename, format, kind, ...(planned.chapter ? { chapter: planned.chapter } : {}) };
  const stored = (size: number, md5: string, mediaType: string | null | undefined): OutputRecord => ({
    ...which,
    fate: 'stored',
    key,
    size,
    md5,
    checksumVerified: planned.expectedMd5 !== null,
    // An image's ending is a guess from its link: what its source said it is counts.
    ...(kind !== 'audio' && mediaType ? { mediaType } : {}),
  });
  try {
    const kept = await alreadyStored(deps.storage, planned, previous, ctx.forced === true);
    if (kept) {
      log.info('already stored by an earlier attempt');
      return stored(kept.size, kept.md5, previous?.mediaType);
    }
    const started = performance.now();
    const result = await download(deps, planned, ctx, log);
    const seconds = (performance.now() - started) / 1000;
    const mbPerSecond = Math.round(result.size / 1e6 / Math.max(seconds, 0.001));
    log.info({ bytes: result.size, seconds, mbPerSecond, ...(result.ranges > 1 ? { ranges: result.ranges } : {}) }, 'file stored');
    // An image never comes with a checksum; an output should: said, not only in the record's checksumVerified.
    if (kind === 'audio' && planned.expectedMd5 === null) {
      log.warn(
        { checksumVerified: false },
        'file stored unverified: Auphonic announced no MD5-shaped checksum for it (or VERIFY_CHECKSUMS=false)',
      );
    }
    return stored(result.size, result.md5, result.mediaType);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    const failure = outputFailure(err, previous);
    log.warn({ code: failure.code, fate: failure.fate }, `output not stored: ${failure.reason}`);
    const retryAfter = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (failure.fate === 'failed' && typeof retryAfter === 'number' && retryAfter > 0) ctx.onRetryAfter?.(retryAfter);
    return { ...which, ...failure };
  }
}

/** Streams into a temporary object, continuing what a dead worker left when the bytes can be verified, then commits. */
async function download(
  deps: OutputDeps,
  planned: PlannedDownload,
  ctx: OutputContext,
  log: Logger,
): Promise<Downloaded & { ranges: number }> {
  // Resuming is safe only when the end result is checked against Auphonic's MD5.
  const verifiable = planned.expectedMd5 !== null && planned.expectedSize !== null;
  const upload = await deps.storage.createUpload(planned.key, {
    resumeId: verifiable ? `${planned.key}\0${planned.expectedSize}\0${planned.expectedMd5}` : undefined,
    signal: ctx.signal,
  });
  try {
    let hash: Hash | undefined;
    if (upload.bytesWritten > 0) {
      hash = createHash('md5');
      for await (const chunk of upload.readBack()) hash.update(chunk);
      log.info({ offset: upload.bytesWritten }, 'taking over the bytes a dead worker left');
    }
    const split = splitOf(deps, planned, upload, ctx);
    if (split) ctx.rangeHelp?.add(split);
    try {
      const result = await downloadInto(deps.client, upload, {
        url: planned.url,
        expectedSize: planned.expectedSize,
        expectedMd5: planned.expectedMd5,
        maxResumes: deps.downloadResumes,
        hash,
        refreshUrl: ctx.refreshUrl,
        maxBytes: planned.limits?.maxBytes,
        acceptType: planned.limits?.acceptType,
        signal: ctx.signal,
        onBytes: (bytes, total) => {
          deps.onBytes?.(bytes);
          ctx.onProgress?.(total);
        },
        split,
        onRetry: ({ why, offset, delayMs }) => log.warn({ offset, delayMs }, `download retried: ${why}`),
      });
      await upload.commit();
      return { ...result, ranges: 1 + (split?.helped ?? 0) };
    } finally {
      if (split) ctx.rangeHelp?.delete(split);
    }
  } finally {
    // Nothing after a commit; the temporary object otherwise.
    await upload.abort();
  }
}

/**
 * The download shared out in ranges with the production's idle slots, where it may be: a driver
 * that takes ranges (a directory in place; S3 in parts, through a spool), large enough, and checked
 * in the end against Auphonic's MD5, as for resuming.
 */
function splitOf(deps: OutputDeps, planned: PlannedDownload, upload: Upload, ctx: OutputContext): SplitDownload | undefined {
  const size = planned.expectedSize;
  if (!ctx.rangeHelp || !upload.ranges || planned.limits || deps.splitMinBytes <= 0) return undefined;
  if (size === null || planned.expectedMd5 === null || size < 2 * deps.splitMinBytes) return undefined;
  const sink = upload.ranges(size);
  if (!sink) return undefined;
  const split: SplitDownload = new SplitDownload({
    client: deps.client,
    url: planned.url,
    total: size,
    minRange: deps.splitMinBytes,
    sink,
    headPos: () => upload.bytesWritten,
    maxResumes: deps.downloadResumes,
    onBytes: (bytes) => {
      deps.onBytes?.(bytes);
      ctx.onProgress?.(upload.bytesWritten + split.helperBytes);
    },
  });
  return split;
}

/** Stored by an earlier attempt: known from its record, or proved by Auphonic's checksum. */
async function alreadyStored(
  storage: StorageDriver,
  planned: PlannedDownload,
  previous: OutputRecord | undefined,
  recordedOnly: boolean,
): Promise<{ size: number; md5: string } | null> {
  const stat = await storage.stat(planned.key);
  if (!stat) return null;
  if (
    previous?.fate === 'stored' &&
    previous.key === planned.key &&
    previous.md5 &&
    previous.size === stat.size &&
    (planned.expectedSize === null || planned.expectedSize === stat.size) &&
    (planned.expectedMd5 === null || planned.expectedMd5 === previous.md5)
  ) {
    return { size: stat.size, md5: previous.md5 };
  }
  if (recordedOnly || planned.expectedMd5 === null || stat.size !== planned.expectedSize) return null;
  const hash = createHash('md5');
  for await (const chunk of storage.read(planned.key)) hash.update(chunk);
  const md5 = hash.digest('hex');
  return md5 === planned.expectedMd5 ? { size: stat.size, md5 } : null;
}
