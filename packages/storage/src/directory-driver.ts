import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { StorageDriver, Upload } from './driver.ts';
import { StorageError } from './errors.ts';
import { keySegments } from './keys.ts';

/** Temporary files live here, on the same filesystem, so the final rename is atomic. */
const INCOMING = '.incoming';
const STALE_TEMP_MS = 24 * 3600_000;

/**
 * Files under a root directory. An upload is written to a temporary file,
 * fsynced, then renamed into place: a reader never sees a partial file, and a
 * crash leaves at most a stray temporary file (swept after a day).
 */
export class DirectoryDriver implements StorageDriver {
  readonly root: string;
  readonly description: string;
  readonly #setting: string;

  constructor(root: string, opts: { setting?: string } = {}) {
    this.root = resolve(root);
    this.description = `directory ${this.root}`;
    this.#setting = opts.setting ?? 'STORAGE_DIR';
  }

  pathOf(key: string): string {
    const path = resolve(this.root, ...keySegments(key));
    if (!path.startsWith(this.root + sep)) {
      throw new StorageError('ERR_STORAGE_BAD_KEY', `refusing storage key ${JSON.stringify(key)}`, { retryable: false });
    }
    return path;
  }

  async check(): Promise<void> {
    const incoming = join(this.root, INCOMING);
    try {
      await mkdir(incoming, { recursive: true });
      const probe = join(incoming, `probe-${randomUUID()}`);
      await (await open(probe, 'wx')).close();
      await unlink(probe);
    } catch (err) {
      throw new StorageError(
        'ERR_STORAGE_UNAVAILABLE',
        `${this.#setting}: cannot write to ${this.root} (${(err as NodeJS.ErrnoException).code})`,
        {
          retryable: false,
          cause: err,
        },
      );
    }
    await this.#sweepStaleTemps(incoming);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unavailable(err);
    }
  }

  read(key: string): AsyncIterable<Buffer> {
    return createReadStream(this.pathOf(key));
  }

  async readJson(key: string): Promise<unknown | null> {
    try {
      return JSON.parse(await readFile(this.pathOf(key), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (err instanceof SyntaxError) return null;
      throw unavailable(err);
    }
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    const upload = await this.createUpload(key);
    try {
      await upload.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
      await upload.commit();
    } finally {
      await upload.abort();
    }
  }

  async createUpload(key: string): Promise<Upload> {
    const finalPath = this.pathOf(key);
    const tempPath = join(this.root, INCOMING, `${randomUUID()}.part`);
    try {
      await mkdir(dirname(tempPath), { recursive: true });
      return new FileUpload(await open(tempPath, 'wx'), tempPath, finalPath);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async #sweepStaleTemps(incoming: string): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(incoming)) {
      const path = join(incoming, name);
      const s = await stat(path).catch(() => null);
      if (s && now - s.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
  }
}

/** Bytes allowed in flight to the disk before write() waits: network reads and disk writes overlap. */
const MAX_PENDING_BYTES = 2 * 1024 * 1024;

class FileUpload implements Upload {
  #fh: FileHandle | null;
  #written = 0;
  #done = false;
  /** Positional writes under way; they may complete in any order. */
  readonly #pending = new Set<Promise<void>>();
  #pendingBytes = 0;
  #failure: unknown;
  readonly #tempPath: string;
  readonly #finalPath: string;

  constructor(fh: FileHandle, tempPath: string, finalPath: string) {
    this.#fh = fh;
    this.#tempPath = tempPath;
    this.#finalPath = finalPath;
  }

  get bytesWritten(): number {
    return this.#written;
  }

  #handle(): FileHandle {
    if (!this.#fh || this.#done) throw new Error('upload already finished');
    if (this.#failure) throw unavailable(this.#failure);
    return this.#fh;
  }

  /** Queues the chunk at its offset; waits only while too many bytes are in flight. The caller must not reuse the chunk. */
  async write(chunk: Uint8Array): Promise<void> {
    const fh = this.#handle();
    const position = this.#written;
    this.#written += chunk.length;
    this.#pendingBytes += chunk.length;
    const task = writeAll(fh, chunk, position).then(
      () => {
        this.#pendingBytes -= chunk.length;
        this.#pending.delete(task);
      },
      (err: unknown) => {
        this.#failure ??= err;
        this.#pendingBytes -= chunk.length;
        this.#pending.delete(task);
      },
    );
    this.#pending.add(task);
    while (this.#pendingBytes > MAX_PENDING_BYTES) await Promise.race(this.#pending);
    this.#handle();
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#pending);
    this.#handle();
  }

  async restart(): Promise<void> {
    await this.#drain();
    await this.#handle().truncate(0);
    this.#written = 0;
  }

  async commit(): Promise<void> {
    await this.#drain();
    const fh = this.#handle();
    try {
      await fh.sync();
      await fh.close();
      this.#fh = null;
      await mkdir(dirname(this.#finalPath), { recursive: true });
      await rename(this.#tempPath, this.#finalPath);
      this.#done = true;
      await syncDirectory(dirname(this.#finalPath));
    } catch (err) {
      throw unavailable(err);
    }
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await Promise.allSettled(this.#pending);
    await this.#fh?.close().catch(() => {});
    this.#fh = null;
    await rm(this.#tempPath, { force: true });
  }
}

async function writeAll(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** The rename is durable only once its directory entry is. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function unavailable(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  // ENOSPC and friends may clear up; the job's attempts bound the retries.
  return new StorageError('ERR_STORAGE_UNAVAILABLE', `storage write failed (${code})`, { retryable: true, cause: err });
}
