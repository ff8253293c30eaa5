import { BridgeError } from '@auphonic-bridge/runtime';

export type StorageErrorCode = 'ERR_STORAGE_BAD_KEY' | 'ERR_STORAGE_UNAVAILABLE';

export class StorageError extends BridgeError {
  readonly retryable: boolean;

  constructor(code: StorageErrorCode, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(code, message, { cause: opts.cause });
    this.retryable = opts.retryable;
  }
}
