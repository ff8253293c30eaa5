import { BridgeError } from '@auphonic-bridge/runtime';

export type StorageErrorCode =
  | 'ERR_STORAGE_BAD_KEY'
  /** An outage or a refusal while working; `retryable` says which. */
  | 'ERR_STORAGE_UNAVAILABLE'
  /** At start: the directory cannot be written to. */
  | 'ERR_STORAGE_NOT_WRITABLE'
  /** At start: the bucket does not exist. */
  | 'ERR_STORAGE_NO_BUCKET'
  /** At start: the server refused the credentials. */
  | 'ERR_STORAGE_CREDENTIALS'
  /** At start: the server cannot be reached or answered something else. */
  | 'ERR_STORAGE_UNREACHABLE'
  /** At start: the temporary directory for the spools of split downloads cannot be written to. */
  | 'ERR_STORAGE_SPOOL';

export class StorageError extends BridgeError {
  readonly retryable: boolean;

  constructor(code: StorageErrorCode, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(code, message, { cause: opts.cause });
    this.retryable = opts.retryable;
  }
}
