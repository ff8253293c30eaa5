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
  /** Readiness: can we write? Throws StorageError naming the setting if not. */
  check(): Promise<void>;
  stat(key: string): Promise<{ size: number } | null>;
  /** Streams a stored object (to re-verify one left by an earlier attempt). */
  read(key: string): AsyncIterable<Buffer>;
  readJson(key: string): Promise<unknown | null>;
  /** Writes a small object whole, atomically. */
  writeJson(key: string, value: unknown): Promise<void>;
  /** Starts writing an object that becomes visible under `key` only on commit. */
  createUpload(key: string): Promise<Upload>;
}

export interface Upload {
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Drops what was written and starts again at byte 0. */
  restart(): Promise<void>;
  /** Makes the object visible under its key, durably. */
  commit(): Promise<void>;
  /** Leaves nothing behind. Safe to call twice or after a failed commit. */
  abort(): Promise<void>;
}
