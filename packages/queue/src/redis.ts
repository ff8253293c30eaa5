import { Redis, type RedisOptions } from 'ioredis';

/**
 * For code that answers a request (the ingress): fail at once while Redis is
 * away instead of queueing commands, so the caller can answer 503.
 */
export function createProducerConnection(redisUrl: URL, opts: RedisOptions = {}): Redis {
  return new Redis(redisUrl.toString(), {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...opts,
  });
}

/** For workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function createWorkerConnection(redisUrl: URL, opts: RedisOptions = {}): Redis {
  return new Redis(redisUrl.toString(), {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    ...opts,
  });
}
