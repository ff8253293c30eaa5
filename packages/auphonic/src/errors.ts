import { BridgeError } from '@auphonic-bridge/runtime';

/**
 * A failed call to Auphonic or to the storage it redirects to. `retryable`
 * separates what a later attempt may fix (timeouts, resets, 5xx, 429) from what
 * it cannot (401, 404, a malformed answer about a production).
 */
export class AuphonicError extends BridgeError {
  readonly retryable: boolean;
  readonly statusCode: number | undefined;
  /** From Retry-After, when the server gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: AuphonicErrorCode,
    message: string,
    opts: { retryable: boolean; statusCode?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, { cause: opts.cause });
    this.retryable = opts.retryable;
    this.statusCode = opts.statusCode;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export type AuphonicErrorCode =
  | 'ERR_AUPHONIC_UNAUTHORIZED'
  | 'ERR_AUPHONIC_NOT_FOUND'
  | 'ERR_AUPHONIC_RATE_LIMITED'
  | 'ERR_AUPHONIC_UNAVAILABLE'
  | 'ERR_AUPHONIC_NETWORK'
  | 'ERR_AUPHONIC_BAD_RESPONSE'
  | 'ERR_AUPHONIC_REJECTED'
  | 'ERR_DOWNLOAD_LINK_EXPIRED'
  | 'ERR_DOWNLOAD_FOREIGN_HOST';

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps an HTTP status to an error, or undefined when it is a success. */
export function errorForStatus(statusCode: number, what: string, retryAfter?: string): AuphonicError | undefined {
  if (statusCode < 400) return undefined;
  if (statusCode === 401 || statusCode === 403) {
    return new AuphonicError('ERR_AUPHONIC_UNAUTHORIZED', `${what}: Auphonic refused the credentials (HTTP ${statusCode})`, {
      retryable: false,
      statusCode,
    });
  }
  if (statusCode === 404 || statusCode === 410) {
    return new AuphonicError('ERR_AUPHONIC_NOT_FOUND', `${what}: not found (HTTP ${statusCode})`, { retryable: false, statusCode });
  }
  if (statusCode === 429) {
    return new AuphonicError('ERR_AUPHONIC_RATE_LIMITED', `${what}: rate limited (HTTP 429)`, {
      retryable: true,
      statusCode,
      retryAfterMs: parseRetryAfter(retryAfter),
    });
  }
  if (statusCode >= 500 || statusCode === 408) {
    return new AuphonicError('ERR_AUPHONIC_UNAVAILABLE', `${what}: server error (HTTP ${statusCode})`, {
      retryable: true,
      statusCode,
      retryAfterMs: parseRetryAfter(retryAfter),
    });
  }
  return new AuphonicError('ERR_AUPHONIC_REJECTED', `${what}: request rejected (HTTP ${statusCode})`, { retryable: false, statusCode });
}
