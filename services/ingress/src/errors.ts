import { AuphonicError, isCredentialRefusal } from '@auphonic-bridge/auphonic';
import { BridgeError } from '@auphonic-bridge/runtime';

/** An error that answers a request: its status and a reason safe to show. */
export class HttpError extends BridgeError {
  readonly statusCode: number;

  constructor(statusCode: number, code: string, message: string) {
    super(code, message);
    this.statusCode = statusCode;
  }
}

export const badWebhook = (reason: string) => new HttpError(400, 'ERR_BAD_WEBHOOK', reason);
export const unknownWebhook = () => new HttpError(404, 'ERR_NOT_FOUND', 'no such webhook');
export const bodyTooLarge = () => new HttpError(413, 'ERR_BODY_TOO_LARGE', 'request body too large');
export const queueUnavailable = () => new HttpError(503, 'ERR_QUEUE_UNAVAILABLE', 'cannot queue the webhook right now; try again');

/** Redis is not there to answer (down, failing over, loading): what a client should try again later. */
export function redisUnavailable(err: unknown, redis: { status: string }): boolean {
  if (redis.status !== 'ready') return true;
  const { name, message } = err as { name?: string; message?: string };
  if (name === 'MaxRetriesPerRequestError') return true;
  // ioredis's commandTimeout: connected, but no answer in time.
  if (message === 'Command timed out') return true;
  return name === 'ReplyError' && /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/.test(message ?? '');
}

/** Redis failing while a webhook is answered is a 503, never a 500: Auphonic then tries again. */
export async function unavailableOnFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw Object.assign(queueUnavailable(), { cause: err });
  }
}

/**
 * Auphonic failing a call the admin API made: its status is Auphonic's, not an answer to our caller
 * (its 401 would read as a wrong ADMIN_TOKEN, its 404 as no such connection). A refused token is a
 * 409 (the user must authorise again; `onRefused` marks their connections so), the rest a 502.
 */
export async function auphonicRefusal(err: unknown, onRefused: () => Promise<void>): Promise<unknown> {
  if (!(err instanceof AuphonicError)) return err;
  const reason = err.message;
  if (isCredentialRefusal(err)) {
    await onRefused();
    return new HttpError(409, 'ERR_NEEDS_REAUTH', "Auphonic refused the user's token: they must authorise again (reconnect)");
  }
  return Object.assign(new HttpError(502, 'ERR_AUPHONIC_FAILED', `Auphonic: ${reason}`), { cause: err });
}
