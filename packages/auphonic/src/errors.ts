import { BridgeError } from '@auphonic-bridge/runtime';

/**
 * A failed call to Auphonic or to the storage it redirects to. `retryable`
 * separates what a later attempt may fix (timeouts, resets, 5xx, 429, a
 * refused download link) from what it cannot (401, 404, a malformed answer).
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

  /** The same error with more detail in its message. */
  withDetail(detail: string): AuphonicError {
    return new AuphonicError(this.code as AuphonicErrorCode, `${this.message}: ${detail}`, {
      retryable: this.retryable,
      statusCode: this.statusCode,
      retryAfterMs: this.retryAfterMs,
    });
  }
}

export type AuphonicErrorCode =
  /** Auphonic's API refused our bearer token: the user (or the operator) must authorise again. */
  | 'ERR_AUPHONIC_UNAUTHORIZED'
  /** Auphonic's API refused this request (403), though it took the token. */
  | 'ERR_AUPHONIC_FORBIDDEN'
  | 'ERR_AUPHONIC_NOT_FOUND'
  | 'ERR_AUPHONIC_RATE_LIMITED'
  | 'ERR_AUPHONIC_UNAVAILABLE'
  | 'ERR_AUPHONIC_NETWORK'
  | 'ERR_AUPHONIC_BAD_RESPONSE'
  | 'ERR_AUPHONIC_REJECTED'
  /** A download link (or the object storage behind it) refused us: ask for a fresh link. */
  | 'ERR_DOWNLOAD_REFUSED'
  | 'ERR_DOWNLOAD_FOREIGN_HOST'
  /** Auphonic lists the output, yet its download is not found, with a fresh link too: looked at again later. */
  | 'ERR_DOWNLOAD_NOT_SERVED'
  /** More bytes than the caller allows (an image over its cap). */
  | 'ERR_DOWNLOAD_TOO_LARGE'
  /** A media type the caller does not want (an image that is not image/*). */
  | 'ERR_DOWNLOAD_WRONG_TYPE'
  /** The bytes received are not what Auphonic announced (size, or MD5 checksum). */
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_CHECKSUM_MISMATCH';

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Who answered decides what a status means. Only Auphonic's API refusing our
 * bearer token (401) means the token is bad; a 401 or 403 from a download link
 * or the object storage behind it is a failed download, worth a fresh link.
 */
export type Answerer = 'api' | 'download' | 'storage';

/** Maps an HTTP status to an error, or undefined when it is a success. */
export function errorForStatus(statusCode: number, what: string, opts: { from: Answerer; retryAfter?: string }): AuphonicError | undefined {
  if (statusCode < 400) return undefined;
  const retryAfterMs = parseRetryAfter(opts.retryAfter);
  if ((statusCode === 401 || statusCode === 403) && opts.from !== 'api') {
    if (statusCode === 401 && opts.from === 'download') {
      return new AuphonicError('ERR_AUPHONIC_UNAUTHORIZED', `${what}: Auphonic refused the credentials (HTTP 401)`, {
        retryable: false,
        statusCode,
      });
    }
    return new AuphonicError('ERR_DOWNLOAD_REFUSED', `${what}: ${opts.from} refused the download (HTTP ${statusCode})`, {
      retryable: true,
      statusCode,
    });
  }
  if (statusCode === 401) {
    return new AuphonicError('ERR_AUPHONIC_UNAUTHORIZED', `${what}: Auphonic refused the credentials (HTTP 401)`, {
      retryable: false,
      statusCode,
    });
  }
  if (statusCode === 403) {
    return new AuphonicError('ERR_AUPHONIC_FORBIDDEN', `${what}: Auphonic refused the request (HTTP 403)`, {
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
      retryAfterMs,
    });
  }
  if (statusCode >= 500 || statusCode === 408) {
    return new AuphonicError('ERR_AUPHONIC_UNAVAILABLE', `${what}: server error (HTTP ${statusCode})`, {
      retryable: true,
      statusCode,
      retryAfterMs,
    });
  }
  return new AuphonicError('ERR_AUPHONIC_REJECTED', `${what}: request rejected (HTTP ${statusCode})`, { retryable: false, statusCode });
}

/** Timeouts, resets, refused connections: all worth another attempt, except an abort. */
export function networkError(what: string, err: unknown): Error {
  if (err instanceof AuphonicError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const code = (err as { code?: unknown })?.code;
  // Only the code: got's own messages can carry the full URL.
  return new AuphonicError('ERR_AUPHONIC_NETWORK', `${what}: ${typeof code === 'string' ? code : 'network error'}`, { retryable: true });
}

/** Whether this says the bearer token itself is refused by Auphonic (and only that). */
export function isCredentialRefusal(err: unknown): err is AuphonicError {
  return err instanceof AuphonicError && err.code === 'ERR_AUPHONIC_UNAUTHORIZED';
}

/** A failure of a download's sink (storage), carried through a download's retries untouched as its cause. */
export class SinkFailure extends Error {}
