import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { RangeWriter, Upload } from './driver.ts';
import { StorageError } from './errors.ts';
import type { PartPool } from './part-pool.ts';
import { type SpoolBudget, SpoolFile } from './spool.ts';

/**
 * One object written as a multipart upload, completed only in commit(), so
 * that its key never holds partial or unverified bytes. Bytes are copied
 * straight into a pool buffer the size of a part; a full part goes to S3 at
 * once while the next fills, as many at a time as the pool has buffers (the
 * pool is the driver's, shared: memory does not grow with file size nor with
 * uploads at once). A file smaller than a part is one PutObject.
 *
 * Instead of @aws-sdk/lib-storage: its buffers are per upload (parts in
 * flight, plus the one it concatenates), so parallel outputs multiplied the
 * memory, and it copies every part once more. The checksums it asks of S3 are
 * asked here the same way (CRC32 when the client sends checksums).
 *
 * A download split into ranges (ranges()) writes each range to a spool file,
 * for the MD5 of the whole to read once the head reaches it, and sends each of
 * its parts from there as soon as the part is whole: S3 takes parts in any
 * order, and ranges start on part boundaries, so every part but the last is
 * whole. A range filling a part holds no buffer of the pool (a range stopped
 * mid-part must not starve the others); the spools of a driver share one
 * budget of disk.
 */
export class S3MultipartUpload implements Upload {
  readonly #client: S3Client;
  readonly #pool: PartPool;
  readonly #bucket: string;
  readonly #key: string;
  #uploadId: Promise<string> | undefined;
  #current: Buffer | undefined;
  #filled = 0;
  #partNumber = 0;
  #parts: CompletedPart[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  #written = 0;
  #finished = false;
  #checksums: boolean | undefined;
  #contentType: string | undefined;
  readonly #spoolBudget: SpoolBudget | undefined;
  #spool: SpoolFile | undefined;
  /** The file's size, once it is split into ranges; the bytes the ranges have put in each part not yet sent, by index. */
  #total = 0;
  readonly #rangeParts = new Map<number, number>();
  #rangePartsSent = 0;
  #reserved: Array<() => void> = [];
  /** What a caller sees of a failure: the driver's StorageError. */
  readonly #toError: (err: unknown) => Error;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbortFailed: ((err: unknown) => void) | undefined;

  constructor(
    client: S3Client,
    pool: PartPool,
    target: { bucket: string; key: string },
    toError: (err: unknown) => Error,
    opts: { spool?: SpoolBudget; signal?: AbortSignal; onAbortFailed?: (err: unknown) => void } = {},
  ) {
    const { spool, signal } = opts;
    this.#signal = signal;
    this.#onAbortFailed = opts.onAbortFailed;
    this.#client = client;
    this.#pool = pool;
    this.#spoolBudget = spool;
    this.#bucket = target.bucket;
    this.#key = target.key;
    this.#toError = toError;
  }

  get bytesWritten(): number {
    return this.#written;
  }

  /** A multipart upload cannot give its bytes back: a takeover starts at byte 0. */
  async *readBack(): AsyncIterable<Buffer> {}

  #check(): void {
    if (this.#finished) throw new Error('upload already finished');
    if (this.#failure) throw this.#toError(this.#failure);
  }

  /** Sent with CreateMultipartUpload, or with the PutObject of a small file. */
  setContentType(contentType: string): void {
    this.#contentType = contentType;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    let offset = 0;
    while (offset < chunk.length) {
      // Cancellable: while S3 throttles the parts in flight, every upload of the worker waits here.
      this.#current ??= await this.#pool.acquire(this.#signal);
      this.#check();
      const n = Math.min(chunk.length - offset, this.#pool.size - this.#filled);
      this.#current.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      this.#written += n;
      if (this.#filled === this.#pool.size) this.#sendPart();
    }
  }

  /** Sends the filled buffer as the next part. */
  #sendPart(): void {
    const buffer = this.#current;
    if (!buffer) return;
    const length = this.#filled;
    this.#current = undefined;
    this.#filled = 0;
    this.#send(++this.#partNumber, buffer, length);
  }

  /** Uploads one part; its buffer goes back to the pool when S3 has it. */
  #send(partNumber: number, buffer: Buffer, length: number): void {
    const task = (async () => {
      try {
        const UploadId = await this.#begin();
        const out = await this.#client.send(
          new UploadPartCommand({
            Bucket: this.#bucket,
            Key: this.#key,
            UploadId,
            PartNumber: partNumber,
            Body: buffer.subarray(0, length),
            ContentLength: length,
          }),
        );
        if (!out.ETag) throw new Error(`part ${partNumber} has no ETag in S3's answer`);
        this.#parts.push({
          PartNumber: partNumber,
          ETag: out.ETag,
          ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
          ...(out.ChecksumCRC32C ? { ChecksumCRC32C: out.ChecksumCRC32C } : {}),
          ...(out.ChecksumCRC64NVME ? { ChecksumCRC64NVME: out.ChecksumCRC64NVME } : {}),
          ...(out.ChecksumSHA1 ? { ChecksumSHA1: out.ChecksumSHA1 } : {}),
          ...(out.ChecksumSHA256 ? { ChecksumSHA256: out.ChecksumSHA256 } : {}),
        });
      } catch (err) {
        this.#failure ??= err;
      } finally {
        this.#pool.release(buffer);
      }
    })();
    this.#inFlight.add(task);
    void task.then(() => this.#inFlight.delete(task));
  }

  /**
   * Ranges of a file of `total` bytes, when the driver has a spool budget and the file spans
   * more than a part.
   */
  ranges(total: number): RangeWriter | null {
    const budget = this.#spoolBudget;
    if (!budget || total <= this.#pool.size || this.#written > 0) return null;
    this.#total = total;
    this.#spool ??= new SpoolFile(budget.dir);
    const spool = this.#spool;
    return {
      align: this.#pool.size,
      room: () => budget.left,
      onRoomFreed: (listener) => budget.onFreed(listener),
      reserve: (bytes) => {
        const giveBack = budget.take(bytes);
        this.#reserved.push(giveBack);
        return giveBack;
      },
      writeAt: (chunk, position, signal) => this.#writeAt(spool, chunk, position, signal),
      readRange: (start, end) => this.#readSpool(spool, start, end),
    };
  }

  async #writeAt(spool: SpoolFile, chunk: Uint8Array, position: number, signal?: AbortSignal): Promise<void> {
    this.#check();
    if (position + chunk.length > this.#total) {
      throw new StorageError('ERR_STORAGE_UNAVAILABLE', `a range wrote past the ${this.#total} bytes announced`, { retryable: false });
    }
    try {
      await spool.write(chunk, position);
    } catch (err) {
      throw spoolError(err);
    }
    const size = this.#pool.size;
    let at = position;
    const end = position + chunk.length;
    while (at < end) {
      const index = Math.floor(at / size);
      const partEnd = Math.min((index + 1) * size, this.#total);
      const filled = (this.#rangeParts.get(index) ?? 0) + Math.min(end, partEnd) - at;
      at = Math.min(end, partEnd);
      if (filled < partEnd - index * size) {
        this.#rangeParts.set(index, filled);
        continue;
      }
      this.#rangeParts.delete(index);
      await this.#sendFromSpool(spool, index, partEnd - index * size, signal);
    }
  }

  /** A part the ranges made whole, read back from the spool into a pool buffer and sent. */
  async #sendFromSpool(spool: SpoolFile, index: number, length: number, signal: AbortSignal | undefined): Promise<void> {
    const buffer = await this.#pool.acquire(signal);
    try {
      this.#check();
      await spool.readInto(buffer, length, index * this.#pool.size).catch((err: unknown) => {
        throw spoolError(err);
      });
    } catch (err) {
      this.#pool.release(buffer);
      throw err;
    }
    this.#rangePartsSent += 1;
    this.#send(index + 1, buffer, length);
  }

  async *#readSpool(spool: SpoolFile, start: number, end: number): AsyncIterable<Buffer> {
    try {
      yield* spool.read(start, end);
    } catch (err) {
      throw spoolError(err);
    }
  }

  /** Created on the first part only: a small file never becomes a multipart upload. */
  #begin(): Promise<string> {
    this.#uploadId ??= (async () => {
      this.#checksums ??= (await this.#client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
      const out = await this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          ContentType: this.#contentType,
          ...(this.#checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
        }),
      );
      if (!out.UploadId) throw new Error("S3's answer to CreateMultipartUpload has no UploadId");
      return out.UploadId;
    })();
    return this.#uploadId;
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** The source could not resume: this multipart upload is dropped and a clean one begins. */
  async restart(): Promise<void> {
    await this.#cancel();
    this.#failure = undefined;
    this.#written = 0;
    this.#partNumber = 0;
    this.#parts = [];
    this.#uploadId = undefined;
    this.#rangePartsSent = 0;
  }

  /** The last part, then CompleteMultipartUpload: only now is the object visible. */
  async commit(): Promise<void> {
    this.#check();
    try {
      await this.#complete();
    } catch (err) {
      throw this.#toError(err);
    }
    this.#finished = true;
    await this.#closeSpool();
  }

  async #complete(): Promise<void> {
    if (this.#rangeParts.size > 0) {
      // The caller checked size and MD5 first: this is a bug, not the bytes.
      throw new StorageError('ERR_STORAGE_UNAVAILABLE', `${this.#rangeParts.size} part(s) of the ranges left unfinished`, {
        retryable: false,
      });
    }
    if (this.#partNumber === 0 && this.#rangePartsSent === 0) {
      // One part's worth or less: a single PutObject.
      const buffer = this.#current;
      const body = buffer ? buffer.subarray(0, this.#filled) : Buffer.alloc(0);
      try {
        await this.#client.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: this.#key,
            Body: body,
            ContentLength: body.length,
            ContentType: this.#contentType,
          }),
        );
      } finally {
        if (buffer) this.#pool.release(buffer);
        this.#current = undefined;
      }
      return;
    }
    if (this.#filled > 0) this.#sendPart();
    else if (this.#current) {
      this.#pool.release(this.#current);
      this.#current = undefined;
    }
    await this.#settle();
    if (this.#failure) throw this.#failure;
    const UploadId = await this.#begin();
    const Parts = [...this.#parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    try {
      await this.#client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId, MultipartUpload: { Parts } }),
      );
    } catch (err) {
      // The upload is gone: completed by an attempt whose answer was lost (the SDK's retry then
      // hears NoSuchUpload), or aborted by someone else. Only the object itself tells which.
      if ((err as { name?: string }).name !== 'NoSuchUpload' || !(await this.#isStoredAs(Parts))) throw err;
    }
  }

  /**
   * Whether the key holds the object these parts complete: its ETag is S3's multipart one, the
   * MD5 of the parts' MD5s, then their count. Unknown (false) when a part's ETag is not an MD5.
   */
  async #isStoredAs(parts: CompletedPart[]): Promise<boolean> {
    const md5s = parts.map((p) => /^"?([0-9a-f]{32})"?$/i.exec(p.ETag ?? '')?.[1]);
    if (md5s.some((m) => m === undefined)) return false;
    const expected = `${createHash('md5')
      .update(Buffer.from(md5s.join(''), 'hex'))
      .digest('hex')}-${parts.length}`;
    const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key })).catch(() => null);
    return head?.ETag?.replace(/"/g, '').toLowerCase() === expected;
  }

  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.#cancel();
  }

  /** The spool's file is gone with its handle; its room goes back to the budget. */
  async #closeSpool(): Promise<void> {
    for (const giveBack of this.#reserved) giveBack();
    this.#reserved = [];
    await this.#spool?.close();
  }

  /** Waits for the parts under way, then aborts the multipart upload (its parts are billed otherwise). */
  async #cancel(): Promise<void> {
    await this.#settle();
    if (this.#current) {
      this.#pool.release(this.#current);
      this.#current = undefined;
      this.#filled = 0;
    }
    this.#rangeParts.clear();
    await this.#closeSpool();
    const uploadId = await this.#uploadId?.catch(() => undefined);
    if (uploadId) {
      await this.#client
        .send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: uploadId }))
        .catch((err: unknown) => this.#onAbortFailed?.(err));
    }
  }
}

/** The spool's disk failed (full, or not writable): may clear up, as a full directory may. */
function spoolError(err: unknown): StorageError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
  return new StorageError('ERR_STORAGE_UNAVAILABLE', `the spool for a download's ranges failed (${code})`, { retryable: true, cause: err });
}
