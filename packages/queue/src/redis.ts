import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from './settings.ts';

export interface ConnectionOptions {
  /** Where a connection problem is said (once per problem, by its code): without a listener, ioredis's 'error' would crash the process. */
  logger?: { warn(obj: object, msg: string): void };
  redis?: RedisOptions;
}

function withErrorListener(redis: Redis, opts: ConnectionOptions): Redis {
  redis.on('error', (err: NodeJS.ErrnoException) => opts.logger?.warn({ code: err.code }, 'redis connection problem'));
  return redis;
}

/**
 * For code that answers a request (the ingress): fail at once while Redis is
 * away instead of queueing commands, so the caller can answer 503.
 */
export function createProducerConnection(settings: Pick<RedisSettings, 'url'>, opts: ConnectionOptions = {}): Redis {
  return withErrorListener(
    new Redis(settings.url.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
      ...opts.redis,
    }),
    opts,
  );
}

/** For workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function createWorkerConnection(settings: Pick<RedisSettings, 'url'>, opts: ConnectionOptions = {}): Redis {
  return withErrorListener(
    new Redis(settings.url.toString(), {
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
      ...opts.redis,
    }),
    opts,
  );
}

/** Whether Redis answers a PING within the time: what /healthz asks. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  const timedOut = AbortSignal.timeout(timeoutMs);
  const late = new Promise<false>((resolve) => timedOut.addEventListener('abort', () => resolve(false), { once: true }));
  return Promise.race([
    redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    ),
    late,
  ]);
}
