import { createHash, type Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuphonicClient, AuphonicError, errorForStatus, networkError } from '@auphonic-bridge/auphonic';
import type { Logger } from '@auphonic-bridge/runtime';
import type { StorageDriver } from '@auphonic-bridge/storage';
import { IngestError } from './errors.ts';

export interface DownloadRequest {
  url: URL;
  key: string;
  expectedSize: number | null;
  expectedMd5: string | null;
  maxResumes: number;
  signal?: AbortSignal;
  log: Logger;
  onProgress?: (bytes: number) => void;
  onBytes?: (bytes: number) => void;
}

export interface DownloadResult {
  size: number;
  md5: string;
  /** Time spent making it durable and visible (fsync, rename): the disk's part. */
  commitMs: number;
}

/**
 * Streams one output file into storage with bounded memory. A connection cut
 * mid-body continues with a Range request (206) or starts over (200); the
 * object is committed only when its size and checksum check out, so its
 * final key never holds partial or unverified bytes.
 */
export async function downloadToStorage(client: AuphonicClient, storage: StorageDriver, req: DownloadRequest): Promise<DownloadResult> {
  const upload = await storage.createUpload(req.key);
  try {
    let hash = createHash('md5');
    let resumes = 0;
    const again = async (why: string, err?: unknown) => {
      if (resumes >= req.maxResumes) throw err ?? new AuphonicError('ERR_AUPHONIC_NETWORK', why, { retryable: true });
      resumes += 1;
      req.log.warn({ offset: upload.bytesWritten, resumes, why }, 'download interrupted, resuming');
      await sleep(Math.min(250 * 2 ** resumes, 5_000), undefined, { signal: req.signal });
    };

    for (;;) {
      const offset = upload.bytesWritten;
      let res: Awaited<ReturnType<AuphonicClient['openDownload']>>;
      try {
        res = await client.openDownload(req.url, { offset, signal: req.signal });
      } catch (err) {
        if (req.signal?.aborted || (err as AuphonicError).retryable === false) throw err;
        await again(`no response (${(err as AuphonicError).code})`, err);
        continue;
      }

      if (res.statusCode === 403 && res.url.origin !== req.url.origin) {
        // Object storage refusing its own presigned link: expired. download_url hands out a fresh one.
        res.body.destroy();
        await again(
          'storage refused the link (expired?)',
          new AuphonicError('ERR_DOWNLOAD_LINK_EXPIRED', 'download link refused by storage', { retryable: true }),
        );
        continue;
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.body.destroy();
        throw errorForStatus(res.statusCode, `download of ${req.key}`, header(res.headers['retry-after'])) ?? unexpected(res.statusCode);
      }
      if (res.statusCode === 200 && offset > 0) {
        // The source ignored Range: the bytes come from the start again.
        await upload.restart();
        hash = createHash('md5');
      } else if (res.statusCode === 206 && rangeStart(res.headers['content-range']) !== offset) {
        res.body.destroy();
        await upload.restart();
        hash = createHash('md5');
        await again('answer to the Range request started elsewhere');
        continue;
      }

      try {
        await copyBody(res.body, upload, hash, req);
        break;
      } catch (err) {
        if (req.signal?.aborted || err instanceof IngestError || (err as { retryable?: boolean }).retryable === false) throw err;
        if (!(err as { code?: string }).code?.startsWith('ERR_STORAGE')) {
          await again('connection broke mid-body', networkError(`download of ${req.key}`, err));
          continue;
        }
        throw err;
      }
    }

    const size = upload.bytesWritten;
    const md5 = hash.digest('hex');
    if (req.expectedSize !== null && size !== req.expectedSize) {
      throw new IngestError('ERR_SIZE_MISMATCH', `${req.key}: got ${size} bytes, Auphonic says ${req.expectedSize}`, { retryable: true });
    }
    if (req.expectedMd5 !== null && md5 !== req.expectedMd5.toLowerCase()) {
      throw new IngestError('ERR_CHECKSUM_MISMATCH', `${req.key}: checksum ${md5} does not match Auphonic's ${req.expectedMd5}`, {
        retryable: true,
      });
    }
    const committing = performance.now();
    await upload.commit();
    return { size, md5, commitMs: Math.round(performance.now() - committing) };
  } finally {
    // Nothing after a commit; the temporary file otherwise.
    await upload.abort();
  }
}

async function copyBody(
  body: AsyncIterable<Buffer>,
  upload: { bytesWritten: number; write(chunk: Uint8Array): Promise<void> },
  hash: Hash,
  req: DownloadRequest,
): Promise<void> {
  let lastProgress = 0;
  for await (const chunk of body) {
    if (req.expectedSize !== null && upload.bytesWritten + chunk.length > req.expectedSize) {
      throw new IngestError('ERR_SIZE_MISMATCH', `${req.key}: more bytes than the ${req.expectedSize} Auphonic announced`, {
        retryable: true,
      });
    }
    hash.update(chunk);
    await upload.write(chunk);
    req.onBytes?.(chunk.length);
    const now = Date.now();
    if (req.onProgress && now - lastProgress > 1_000) {
      lastProgress = now;
      req.onProgress(upload.bytesWritten);
    }
  }
}

function rangeStart(contentRange: string | string[] | undefined): number | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(contentRange) ?? '');
  return match ? Number(match[1]) : null;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function unexpected(statusCode: number): AuphonicError {
  return new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `unexpected HTTP ${statusCode} for a download`, { retryable: true, statusCode });
}
