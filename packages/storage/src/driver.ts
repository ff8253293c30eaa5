/**
 * What the worker needs of storage. Keys are `/`-separated and already
 * validated; a driver still refuses any key that could leave its root.
 * Verification (size, checksum) is the caller's: it hashes while writing and
 * commits only what checked out, so an object under its final key is always
 * complete and verified.
 */
export interface StorageDriver {
  /** Where files go, for logs and errors (no credentials). */
  readonly description: string;
  /** Readiness: can we write? Throws StorageError naming the setting if not. Sweeps what dead workers left. */
  check(): Promise<void>;
  /** Removes temporary objects of dead workers (never a live upload's); returns how many. */
  sweep(): Promise<number>;
  stat(key: string): Promise<{ size: number } | null>;
  /** Streams a stored object (to re-verify one left by an earlier attempt). */
  read(key: string): AsyncIterable<Buffer>;
  readJson(key: string): Promise<unknown | null>;
  /** Writes a small object whole, atomically. */
  writeJson(key: string, value: unknown): Promise<void>;
  /** Starts writing an object that becomes visible under `key` only on commit. */
  createUpload(key: string, opts?: UploadOptions): Promise<Upload>;
  /** Deletes an object (a file a re-run no longer has); a missing one is no error. */
  remove(key: string): Promise<void>;
}

export interface UploadOptions {
  /**
   * Names what is being written (the key and what Auphonic announced). The
   * holder of a production's job may then take over the bytes a dead worker
   * left under the same id: the upload starts with `bytesWritten` > 0 and
   * `readBack()` gives those bytes to hash. A driver that cannot give bytes
   * back starts at 0 and removes the dead upload instead.
   */
  resumeId?: string;
  /** The job's: a write still waiting for room (a part buffer) gives up when it aborts. */
  signal?: AbortSignal;
}

export interface Upload {
  /** Bytes in the upload; above 0 at once when it took over a dead worker's. */
  readonly bytesWritten: number;
  /** The bytes taken over at the start (empty for a fresh upload). */
  readBack(): AsyncIterable<Buffer>;
  write(chunk: Uint8Array): Promise<void>;
  /**
   * The media type readers should get (S3's Content-Type, which a CDN serves), when the
   * driver stores one: given before the first write; a later call may not apply.
   */
  setContentType?(contentType: string): void;
  /**
   * Optional, for a download split into ranges: how this upload takes the ranges of a file of
   * `total` bytes, or null when it cannot (then the download is never split).
   */
  ranges?(total: number): RangeWriter | null;
  /** Drops what was written and starts again at byte 0. */
  restart(): Promise<void>;
  /** Makes the object visible under its key, durably. */
  commit(): Promise<void>;
  /** Leaves nothing behind. Safe to call twice or after a failed commit. */
  abort(): Promise<void>;
}

/**
 * Bytes written beyond the sequential ones, at their own offsets (a split download's ranges):
 * `bytesWritten`, what resuming keeps, does not move.
 */
export interface RangeWriter {
  /** A range must start at a multiple of this (S3: the part size; 1 for a file). */
  readonly align: number;
  /** The most bytes a range taken now may hold (S3: the spool left); Infinity for no limit. */
  room(): number;
  /** Claims room for a range about to be taken; returns the function that gives it back if it is not. */
  reserve(bytes: number): () => void;
  /** Optional: calls `listener` when room comes back (another upload ended); returns the unsubscribe. */
  onRoomFreed?(listener: () => void): () => void;
  /** `signal`: the range was stopped; a wait for memory or disk gives up. */
  writeAt(chunk: Uint8Array, position: number, signal?: AbortSignal): Promise<void>;
  /** The bytes in [start, end) once every write has landed (to hash what the ranges wrote). */
  readRange(start: number, end: number): AsyncIterable<Buffer>;
}
