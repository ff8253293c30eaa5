import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { RangeWriter, StorageDriver, Upload, UploadOptions } from './driver.ts';
import { StorageError } from './errors.ts';
import { keySegments } from './keys.ts';
import { writeAll } from './write-all.ts';

/** Temporary files live here, on the same filesystem, so the final rename is atomic. */
const INCOMING = '.incoming';
/** A live upload touches its files at least this often, even while its source is silent. */
const HEARTBEAT_MS = 30_000;
/** Untouched this long: its worker is dead. */
export const STALE_TEMP_MS = 10 * 60_000;
/** How far the checkpoint may lag the bytes written. */
const CHECKPOINT_EVERY = 8 * 1024 * 1024;
/** Bytes allowed in flight to the disk before write() waits: network reads and disk writes overlap. */
const MAX_PENDING_BYTES = 2 * 1024 * 1024;
/**
 * Every this many bytes written, a datasync starts in the background: the disk writes while the
 * download goes on, and the commit's fsync finds little left to do (about 15% faster for 1 GiB).
 * 8 MiB rather than 64: a 48 MiB output's commit waited 60-70 ms for its last 48 MiB, three
 * outputs committing at once longer still (scripts/bench: parallel); 1 GiB is as fast either way.
 */
const EARLY_SYNC_EVERY = 8 * 1024 * 1024;

/**
 * Files under a root directory. An upload is written to a temporary file,
 * fsynced, then renamed into place: a reader never sees a partial file. A
 * resumable upload keeps a checkpoint beside its temporary file (how many
 * leading bytes are surely written), so the next holder of the job can take
 * it over after a crash; whatever else a dead worker left is swept.
 */
export class DirectoryDriver implements StorageDriver {
  readonly root: string;
  readonly description: string;
  readonly #incoming: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `directory ${this.root}`;
    this.#incoming = join(this.root, INCOMING);
  }

  pathOf(key: string): string {
    const path = resolve(this.root, ...keySegments(key));
    if (!path.startsWith(this.root + sep)) {
      throw new StorageError('ERR_STORAGE_BAD_KEY', `refusing storage key ${JSON.stringify(key)}`, { retryable: false });
    }
    return path;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.#incoming, { recursive: true });
      const probe = join(this.#incoming, `probe-${randomUUID()}`);
      await (await open(probe, 'wx')).close();
      await unlink(probe);
    } catch (err) {
      throw new StorageError('ERR_STORAGE_NOT_WRITABLE', `cannot write to ${this.root} (${(err as NodeJS.ErrnoException).code})`, {
        retryable: false,
        cause: err,
      });
    }
    await this.sweep();
  }

  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.#incoming).catch((): string[] => [])) {
      const path = join(this.#incoming, name);
      const s = await stat(path).catch(() => null);
      if (s && now - s.mtimeMs > STALE_TEMP_MS) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
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

  async remove(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
      // The unlink is durable only once its directory entry is.
      await syncDirectory(dirname(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw unavailable(err);
    }
  }

  async createUpload(key: string, opts: UploadOptions = {}): Promise<Upload> {
    const finalPath = this.pathOf(key);
    try {
      await mkdir(this.#incoming, { recursive: true });
      if (!opts.resumeId) {
        const temp = join(this.#incoming, `${randomUUID()}.part`);
        return new FileUpload(await open(temp, 'wx'), null, { temp, checkpoint: null, finalPath, resumed: 0 });
      }
      return await this.#resumable(createHash('sha256').update(opts.resumeId).digest('hex').slice(0, 32), finalPath);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * `<id>.<nonce>.part` with its checkpoint `<id>.<nonce>.ckpt`. Only the
   * holder of the production's job writes under its id, so what is found
   * under it is a dead holder's: claimed by renaming it (a worker that lost
   * its lock and still writes then writes to a file it cannot commit), cut to
   * its checkpoint, and continued.
   */
  async #resumable(id: string, finalPath: string): Promise<Upload> {
    const nonce = randomUUID();
    const temp = join(this.#incoming, `${id}.${nonce}.part`);
    const checkpoint = join(this.#incoming, `${id}.${nonce}.ckpt`);
    let resumed = 0;
    const leftovers = (await readdir(this.#incoming)).filter((n) => n.startsWith(`${id}.`) && n.endsWith('.part'));
    for (const name of leftovers) {
      const path = join(this.#incoming, name);
      const oldCheckpoint = path.replace(/\.part$/, '.ckpt');
      const safe = resumed === 0 ? await readCheckpoint(oldCheckpoint) : 0;
      if (safe > 0) {
        try {
          await rename(path, temp);
          resumed = safe;
        } catch {
          // Claimed by someone else a moment ago, or gone: not ours to continue.
        }
      }
      if (resumed !== safe || safe === 0) await rm(path, { force: true });
      await rm(oldCheckpoint, { force: true });
    }
    const fh = await open(temp, resumed > 0 ? 'r+' : 'wx');
    try {
      // Never past the file's end: a checkpoint ahead of its data (lost in a crash) would resume over zeros.
      if (resumed > 0) resumed = Math.min(resumed, (await fh.stat()).size);
      if (resumed > 0) await fh.truncate(resumed);
      const ck = await open(checkpoint, 'w');
      return new FileUpload(fh, ck, { temp, checkpoint, finalPath, resumed });
    } catch (err) {
      // Out of descriptors or space: nothing half-made is left open or behind.
      await fh.close().catch(() => {});
      await rm(temp, { force: true });
      throw err;
    }
  }
}

async function readCheckpoint(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const value = Number(text.trim());
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

class FileUpload implements Upload {
  #fh: FileHandle | null;
  readonly #ck: FileHandle | null;
  #written: number;
  #done = false;
  /** Positional writes under way, by their offset; they may complete in any order. */
  readonly #pending = new Map<number, Promise<void>>();
  #pendingBytes = 0;
  #failure: unknown;
  #checkpointed: number;
  #checkpointing = false;
  /** Where the last background datasync started, and that sync while it runs. */
  #syncedFrom = 0;
  #syncing: Promise<void> | null = null;
  readonly #resumed: number;
  readonly #paths: { temp: string; checkpoint: string | null; finalPath: string };
  readonly #heartbeat: NodeJS.Timeout;

  constructor(
    fh: FileHandle,
    ck: FileHandle | null,
    paths: { temp: string; checkpoint: string | null; finalPath: string; resumed: number },
  ) {
    this.#fh = fh;
    this.#ck = ck;
    this.#paths = paths;
    this.#written = paths.resumed;
    this.#resumed = paths.resumed;
    this.#checkpointed = paths.resumed;
    if (ck) void this.#writeCheckpoint(paths.resumed);
    // A sweep removes what has not been touched for a while: a live upload keeps its files fresh.
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      void this.#fh?.utimes(now, now).catch(() => {});
      void this.#ck?.utimes(now, now).catch(() => {});
    }, HEARTBEAT_MS).unref();
  }

  get bytesWritten(): number {
    return this.#written;
  }

  async *readBack(): AsyncIterable<Buffer> {
    if (this.#resumed === 0) return;
    yield* createReadStream(this.#paths.temp, { start: 0, end: this.#resumed - 1, highWaterMark: 1024 * 1024 });
  }

  #handle(): FileHandle {
    if (!this.#fh || this.#done) throw new Error('upload already finished');
    if (this.#failure) throw unavailable(this.#failure);
    return this.#fh;
  }

  /** Queues the chunk at its offset; waits only while too many bytes are in flight. The caller must not reuse the chunk. */
  async write(chunk: Uint8Array): Promise<void> {
    const position = this.#written;
    this.#written += chunk.length;
    await this.#queueWrite(chunk, position);
  }

  /** Ranges go straight to their place in the file; the checkpoint and resuming keep to the sequential prefix. */
  ranges(): RangeWriter {
    return {
      align: 1,
      room: () => Number.POSITIVE_INFINITY,
      reserve: () => () => {},
      writeAt: (chunk, position) => this.#queueWrite(chunk, position),
      readRange: (start, end) => this.#readRange(start, end),
    };
  }

  async *#readRange(start: number, end: number): AsyncIterable<Buffer> {
    await this.#drain();
    if (end <= start) return;
    yield* createReadStream(this.#paths.temp, { start, end: end - 1, highWaterMark: 128 * 1024 });
  }

  async #queueWrite(chunk: Uint8Array, position: number): Promise<void> {
    const fh = this.#handle();
    this.#pendingBytes += chunk.length;
    const settle = (err?: unknown) => {
      if (err !== undefined) this.#failure ??= err;
      this.#pendingBytes -= chunk.length;
      this.#pending.delete(position);
      this.#maybeCheckpoint();
      this.#maybeSyncEarly();
    };
    this.#pending.set(
      position,
      writeAll(fh, chunk, position).then(() => settle(), settle),
    );
    while (this.#pendingBytes > MAX_PENDING_BYTES) await Promise.race(this.#pending.values());
    this.#handle();
  }

  /** Every byte below the lowest write still in flight is written: that much a successor may keep. */
  #maybeCheckpoint(): void {
    // After a failed write, no later checkpoint may cover the bytes it did not write.
    if (!this.#ck || this.#checkpointing || this.#done || this.#failure !== undefined) return;
    let safe = this.#written;
    for (const position of this.#pending.keys()) safe = Math.min(safe, position);
    if (safe - this.#checkpointed < CHECKPOINT_EVERY) return;
    void this.#writeCheckpoint(safe);
  }

  #maybeSyncEarly(): void {
    const fh = this.#fh;
    if (!fh || this.#syncing || this.#done || this.#written - this.#syncedFrom < EARLY_SYNC_EVERY) return;
    this.#syncedFrom = this.#written;
    this.#syncing = fh
      .datasync()
      // A failed sync may not fail again on the next one (the kernel forgets): the upload has failed.
      .catch((err: unknown) => {
        this.#failure ??= err;
      })
      .finally(() => {
        this.#syncing = null;
      });
  }

  async #writeCheckpoint(safe: number): Promise<void> {
    if (!this.#ck) return;
    this.#checkpointing = true;
    try {
      await this.#ck.write(String(safe).padEnd(20), 0);
      this.#checkpointed = safe;
    } catch {
      // A missing checkpoint only costs a successor its head start.
    } finally {
      this.#checkpointing = false;
    }
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#pending.values());
    await this.#syncing;
    this.#handle();
  }

  async restart(): Promise<void> {
    await this.#drain();
    // A worker that lost its lock may still hold the file its successor claimed (renamed) since: not its to cut.
    const [mine, there] = await Promise.all([this.#handle().stat(), stat(this.#paths.temp).catch(() => null)]);
    if (!there || there.ino !== mine.ino || there.dev !== mine.dev) {
      throw new StorageError('ERR_STORAGE_UNAVAILABLE', 'the temporary file was taken over by another worker', { retryable: true });
    }
    await this.#handle().truncate(0);
    this.#written = 0;
    this.#syncedFrom = 0;
    this.#checkpointed = 0;
    await this.#writeCheckpoint(0);
  }

  async commit(): Promise<void> {
    await this.#drain();
    const fh = this.#handle();
    try {
      await fh.sync();
      await fh.close();
      this.#fh = null;
      await mkdir(dirname(this.#paths.finalPath), { recursive: true });
      await rename(this.#paths.temp, this.#paths.finalPath);
      this.#done = true;
      await this.#dropCheckpoint();
      await syncDirectory(dirname(this.#paths.finalPath));
    } catch (err) {
      throw unavailable(err);
    }
  }

  async abort(): Promise<void> {
    clearInterval(this.#heartbeat);
    if (this.#done) return;
    this.#done = true;
    await Promise.allSettled(this.#pending.values());
    await this.#syncing;
    await this.#fh?.close().catch(() => {});
    this.#fh = null;
    await rm(this.#paths.temp, { force: true });
    await this.#dropCheckpoint();
  }

  async #dropCheckpoint(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#ck?.close().catch(() => {});
    if (this.#paths.checkpoint) await rm(this.#paths.checkpoint, { force: true });
  }
}

/** A rename or an unlink is durable only once its directory entry is. */
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
  // ENOSPC and friends may clear up; the job's retry budget bounds the retries.
  return new StorageError('ERR_STORAGE_UNAVAILABLE', `storage write failed (${code})`, { retryable: true, cause: err });
}
