import { randomUUID } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAll } from './write-all.ts';

/**
 * The disk the spools of one driver may fill at once (DOWNLOAD_SPLIT_SPOOL_MB): a range is
 * taken only within what is left, so a worker whose temporary directory is small (a
 * Kubernetes emptyDir with a sizeLimit) is never evicted for it.
 */
export class SpoolBudget {
  readonly dir: string;
  #left: number;
  readonly #freed = new Set<() => void>();

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.#left = maxBytes;
  }

  get left(): number {
    return this.#left;
  }

  /** Takes `bytes` (never more than is left); returns the function that gives them back, once. */
  take(bytes: number): () => void {
    const taken = Math.min(Math.max(0, bytes), this.#left);
    this.#left -= taken;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#left += taken;
      if (taken > 0) for (const listener of [...this.#freed]) listener();
    };
  }

  /** Calls `listener` whenever room comes back (idle slots of any production may look again); returns the unsubscribe. */
  onFreed(listener: () => void): () => void {
    this.#freed.add(listener);
    return () => this.#freed.delete(listener);
  }
}

/**
 * A file that holds the bytes of a download's ranges at their own offsets until the MD5 of
 * the whole reaches them (S3 takes the parts at once, but a hash only goes forward). It is
 * unlinked as soon as it is open: the kernel frees it when the upload closes it or when the
 * worker dies, so a killed worker leaves nothing to sweep.
 */
export class SpoolFile {
  readonly #dir: string;
  #fh: Promise<FileHandle> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async write(chunk: Uint8Array, position: number): Promise<void> {
    await writeAll(await this.#open(), chunk, position);
  }

  /** The bytes in [start, end): what the writes put there (a hole reads as zeros). */
  async *read(start: number, end: number): AsyncIterable<Buffer> {
    if (end <= start) return;
    const fh = await this.#open();
    yield* fh.createReadStream({ start, end: end - 1, autoClose: false, highWaterMark: 128 * 1024 });
  }

  /** Reads `length` bytes at `position` into the start of `buffer`. */
  async readInto(buffer: Buffer, length: number, position: number): Promise<void> {
    const fh = await this.#open();
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new Error(`the spool ended at byte ${position + done}`);
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await (await fh?.catch(() => undefined))?.close();
  }

  #open(): Promise<FileHandle> {
    this.#fh ??= (async () => {
      const path = join(this.#dir, `auphonic-bridge-spool-${randomUUID()}`);
      const fh = await open(path, 'wx+', 0o600);
      await unlink(path).catch(async (err: unknown) => {
        await fh.close();
        throw err;
      });
      return fh;
    })();
    return this.#fh;
  }
}
