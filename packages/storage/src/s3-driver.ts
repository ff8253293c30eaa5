import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  PutObjectCommand,
  paginateListParts,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { StorageDriver, Upload, UploadOptions } from './driver.ts';
import { StorageError } from './errors.ts';
import { keySegments } from './keys.ts';
import { PartPool } from './part-pool.ts';
import { S3MultipartUpload } from './s3-multipart.ts';
import { SpoolBudget, SpoolFile } from './spool.ts';

export interface S3Settings {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for none). */
  prefix: string;
  /** Empty for AWS; the URL of any other S3-compatible service. */
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
  /** Multipart part size, bytes (S3's minimum is 5 MiB). */
  partSize: number;
  /** Parts uploaded at once, across all uploads of the driver. Their memory is partSize × (concurrency + 1), in all. */
  concurrency: number;
  /** Milliseconds: to connect; a socket silent this long; one request (a part) in all. 0: none. */
  timeouts: { connectMs: number; socketMs: number; requestMs: number };
  /**
   * Where a download split into ranges keeps their bytes until the MD5 reaches them, and how
   * much disk the spools may take at once; absent (or 0 bytes): downloads to S3 are never split.
   */
  spool?: { dir: string; maxBytes: number };
  /**
   * Where under `prefix` this service's keys begin (the layout's roots): the sweep aborts
   * abandoned uploads there only, never another application's in a shared bucket or prefix.
   * Absent: all of `prefix/`.
   */
  ownedRoots?: readonly string[];
  /**
   * Told of a multipart upload that could not be aborted (its parts stay, billed, until the sweep
   * or a lifecycle rule removes them): an abort never fails its caller, so this is where it is said.
   */
  onAbortFailed?: (key: string, err: StorageError) => void;
}

/**
 * A multipart upload that has neither begun nor received a part for this long
 * is a dead worker's (a live one adds a part every few seconds, or fails on the
 * timeouts above long before): aborted, since its parts are billed.
 */
export const STALE_UPLOAD_MS = 3600_000;

/**
 * Objects in an S3-compatible bucket. An upload is a multipart upload
 * (s3-multipart.ts) completed only in commit(), after the caller verified
 * size and checksum, so the final key never holds partial or unverified
 * bytes; abort() aborts it. Every upload of the driver fills its parts from
 * one pool of buffers: memory is bounded whatever the file sizes and however
 * many files are uploaded at once.
 */
export class S3Driver implements StorageDriver {
  readonly description: string;
  readonly client: S3Client;
  readonly #s: S3Settings;
  /** Every upload's part buffers: S3_UPLOAD_CONCURRENCY parts in flight, and one more filling. */
  readonly #pool: PartPool;
  readonly #spool: SpoolBudget | undefined;

  constructor(settings: S3Settings, clientConfig: S3ClientConfig = {}) {
    this.#s = settings;
    this.#pool = new PartPool(settings.partSize, settings.concurrency + 1);
    this.#spool = settings.spool?.maxBytes ? new SpoolBudget(settings.spool.dir, settings.spool.maxBytes) : undefined;
    this.description = `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      // Servers other than AWS may refuse the SDK's default CRC32 checksum headers.
      requestChecksumCalculation: settings.endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // Without these a server that stops answering holds an upload (and its job) forever.
      requestHandler: {
        connectionTimeout: settings.timeouts.connectMs,
        socketTimeout: settings.timeouts.socketMs,
        requestTimeout: settings.timeouts.requestMs,
        throwOnRequestTimeout: true,
      },
      ...clientConfig,
    });
  }

  #key(key: string): string {
    const segments = keySegments(key);
    return [this.#s.prefix, ...segments].filter(Boolean).join('/');
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.#s.bucket }));
    } catch (err) {
      throw startupError(err, this.#s.bucket);
    }
    if (this.#spool) await probeSpool(this.#spool.dir);
    await this.sweep();
  }

  /**
   * Aborts the multipart uploads dead workers left (every page of them), under this service's
   * own keys only. Best effort: not every server lists them, and one that cannot be looked at
   * or aborted now (completed meanwhile, say) is left to the next sweep, not the end of this one.
   */
  async sweep(now = Date.now()): Promise<number> {
    let aborted = 0;
    // With a trailing slash: prefix 'p' is not 'podcasts-archive/'.
    const under = this.#s.ownedRoots
      ? this.#s.ownedRoots.map((root) => `${this.#key(root)}/`)
      : [this.#s.prefix ? `${this.#s.prefix}/` : ''];
    for (const prefix of under) {
      try {
        for await (const u of this.#multipartUploads(prefix || undefined)) {
          if (!u.Initiated || now - u.Initiated.getTime() <= STALE_UPLOAD_MS) continue;
          try {
            if (now - (await this.#lastPartAt(u.Key, u.UploadId)) <= STALE_UPLOAD_MS) continue;
            await this.#abortUpload(u.Key, u.UploadId);
            aborted += 1;
          } catch {
            // NoSuchUpload: completed or aborted since the list.
          }
        }
      } catch {
        // Not implemented by some servers (s3rver); a bucket lifecycle rule does the same (see the README).
      }
    }
    return aborted;
  }

  async *#multipartUploads(prefix: string | undefined): AsyncIterable<{ Key: string; UploadId: string; Initiated?: Date }> {
    let page: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const list: ListMultipartUploadsCommandOutput = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#s.bucket, Prefix: prefix, ...page }),
      );
      for (const u of list.Uploads ?? []) if (u.Key && u.UploadId) yield { Key: u.Key, UploadId: u.UploadId, Initiated: u.Initiated };
      if (!list.IsTruncated) return;
      page = { KeyMarker: list.NextKeyMarker, UploadIdMarker: list.NextUploadIdMarker };
    }
  }

  /** When the upload last received a part: over every page (a page holds 1000 parts, 5 GB at 5 MiB; the newest come last). */
  async #lastPartAt(key: string, uploadId: string): Promise<number> {
    let last = 0;
    for await (const page of paginateListParts({ client: this.client }, { Bucket: this.#s.bucket, Key: key, UploadId: uploadId })) {
      for (const part of page.Parts ?? []) last = Math.max(last, part.LastModified?.getTime() ?? 0);
    }
    return last;
  }

  async #abortUpload(key: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.#s.bucket, Key: key, UploadId: uploadId }));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.#s.bucket, Key: this.#key(key) }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError(err);
    }
  }

  async *read(key: string): AsyncIterable<Buffer> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.#s.bucket, Key: this.#key(key) }));
      body = res.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      throw storageError(err);
    }
    for await (const chunk of body) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  async readJson(key: string): Promise<unknown | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.#s.bucket, Key: this.#key(key) }));
      return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null');
    } catch (err) {
      if (isNotFound(err)) return null;
      if (err instanceof SyntaxError) return null;
      throw storageError(err);
    }
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.#s.bucket,
          Key: this.#key(key),
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: 'application/json',
        }),
      );
    } catch (err) {
      throw storageError(err);
    }
  }

  /** S3 answers a delete of a missing key with success too. */
  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.#s.bucket, Key: this.#key(key) }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw storageError(err);
    }
  }

  /**
   * A multipart upload cannot give its bytes back, so the MD5 of the whole file
   * could not be continued: a takeover starts at byte 0. Whatever multipart
   * upload a dead holder of the job left under this key is aborted first.
   */
  async createUpload(key: string, opts: UploadOptions = {}): Promise<Upload> {
    const objectKey = this.#key(key);
    if (opts.resumeId) {
      try {
        for await (const u of this.#multipartUploads(objectKey)) if (u.Key === objectKey) await this.#abortUpload(u.Key, u.UploadId);
      } catch {
        // Not listable here: the sweep or a lifecycle rule removes it.
      }
    }
    return new S3MultipartUpload(this.client, this.#pool, { bucket: this.#s.bucket, key: objectKey }, storageError, {
      spool: this.#spool,
      signal: opts.signal,
      onAbortFailed: this.#s.onAbortFailed && ((err) => this.#s.onAbortFailed?.(objectKey, storageError(err))),
    });
  }
}

/** A spool that cannot be written would fail every split download: said at start instead. */
async function probeSpool(dir: string): Promise<void> {
  const file = new SpoolFile(dir);
  try {
    await file.write(Buffer.from('probe'), 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
    throw new StorageError('ERR_STORAGE_SPOOL', `cannot write a spool file in ${dir} (${code})`, { retryable: false, cause: err });
  } finally {
    await file.close();
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || statusOf(err) === 404;
}

const TRANSIENT = new Set([
  // An upload aborted under its writer (a sweep, a lifecycle rule, a takeover): it starts again.
  'NoSuchUpload',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'ThrottlingException',
]);

/** Outages and throttling are worth another attempt; refusals are not. */
export function storageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const name = (err as { name?: string })?.name ?? 'Error';
  const status = statusOf(err);
  const code = (err as { code?: string })?.code;
  const retryable =
    TRANSIENT.has(name) || (status !== undefined && (status >= 500 || status === 429)) || (status === undefined && code !== undefined);
  return new StorageError('ERR_STORAGE_UNAVAILABLE', `S3 ${name}${status ? ` (HTTP ${status})` : ''}`, { retryable, cause: err });
}

function startupError(err: unknown, bucket: string): StorageError {
  const name = (err as { name?: string })?.name ?? 'Error';
  const status = statusOf(err);
  if (name === 'NoSuchBucket' || name === 'NotFound' || status === 404) {
    return new StorageError('ERR_STORAGE_NO_BUCKET', `bucket "${bucket}" does not exist`, { retryable: false, cause: err });
  }
  const refused = ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError'];
  if (status === 403 || refused.includes(name)) {
    return new StorageError('ERR_STORAGE_CREDENTIALS', `S3 refused the credentials for bucket "${bucket}" (${name})`, {
      retryable: false,
      cause: err,
    });
  }
  return new StorageError('ERR_STORAGE_UNREACHABLE', `cannot reach bucket "${bucket}" (${name}${status ? `, HTTP ${status}` : ''})`, {
    retryable: false,
    cause: err,
  });
}
