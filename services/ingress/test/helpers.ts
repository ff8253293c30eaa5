import { bridgeKeyPrefix, createProductionQueue, type ProductionQueue } from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { LogCapture, redisSpace, startRedis, type TestRedis, type TestRedisSpace } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.ts';
import { IngressService } from '../src/service.ts';

export const SECRET = 'test-secret-0123456789abcdef';
export const OLD_SECRET = 'old-secret-0123456789abcdef';

export interface IngressFixture {
  /** A QUEUE_PREFIX of its own on the run's Redis; with `ownRedis`, a server of its own that the test may stop. */
  redis: TestRedisSpace & Partial<Pick<TestRedis, 'stop' | 'restart'>>;
  /** Where the bridge's own keys (connections, rate limits) live under that prefix. */
  keyPrefix: string;
  ingress: IngressService;
  logs: LogCapture;
  queue: ProductionQueue;
  url: (path: string) => string;
  /** On the operations port (METRICS_PORT). */
  metricsUrl: (path: string) => string;
  webhookUrl: (secret?: string) => string;
  close(): Promise<void>;
}

/** A real ingress on loopback against a real redis-server. */
export async function startIngress(env: Record<string, string> = {}, opts: { ownRedis?: boolean } = {}): Promise<IngressFixture> {
  const redis: IngressFixture['redis'] = opts.ownRedis ? { ...(await startRedis()), prefix: 'bull' } : await redisSpace();
  const logs = new LogCapture();
  const config = readConfig({
    REDIS_URL: redis.url.toString(),
    QUEUE_PREFIX: redis.prefix,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_SECRET_PREVIOUS: OLD_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    ENQUEUE_TIMEOUT_MS: '1000',
    ...env,
  });
  const ingress = IngressService.create(config, createLogger({ service: 'ingress', level: 'debug', destination: logs }));
  await ingress.start();
  const connection = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
  const queue = createProductionQueue(connection, { prefix: redis.prefix });
  return {
    redis,
    keyPrefix: bridgeKeyPrefix(redis),
    ingress,
    logs,
    queue,
    url: (path) => `${ingress.url}${path}`,
    metricsUrl: (path) => `${ingress.metricsUrl}${path}`,
    webhookUrl: (secret = SECRET) => `${ingress.url}/webhooks/auphonic/${secret}`,
    async close() {
      await ingress.destroy();
      await queue.close();
      connection.disconnect();
      await redis.close();
    },
  };
}

export function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', body: new URLSearchParams(fields) };
}

export function multipart(fields: Record<string, string>): RequestInit {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  return { method: 'POST', body };
}
