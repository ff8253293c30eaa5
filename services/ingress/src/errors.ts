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
