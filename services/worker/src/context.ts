import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { LAYOUT_ROOTS } from '@auphonic-bridge/layout';
import { createRegistry, type Registry, type WorkerMetrics, workerMetrics } from '@auphonic-bridge/metrics';
import {
  bridgeKeyPrefix,
  createNotificationQueue,
  createProductionQueue,
  createWorkerConnection,
  type NotificationQueue,
  type Owner,
  type ProductionQueue,
  QUEUES,
  type RedisConnection,
} from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import { createStorage, type StorageDriver } from '@auphonic-bridge/storage';
import type { WorkerConfig } from './config.ts';
import { type Credentials, createCredentials } from './credentials.ts';
import { ProgressWatch } from './progress-watch.ts';

/** Everything a worker process works with, built once from its config. */
export interface WorkerContext {
  config: WorkerConfig;
  logger: Logger;
  redis: RedisConnection;
  storage: StorageDriver;
  registry: Registry;
  metrics: WorkerMetrics;
  connections: ConnectionStore | null;
  credentials: (owner: Owner) => Promise<Credentials>;
  productions: ProductionQueue;
  notifications: NotificationQueue;
  progress: ProgressWatch;
  /** Where the bridge's own keys (watermarks, connections) live in Redis. */
  keyPrefix: string;
}

/** What a test may put in place of the real thing. */
export type WorkerOverrides = Partial<Pick<WorkerContext, 'redis' | 'storage'>>;

export async function fromConfig(config: WorkerConfig, logger: Logger, overrides: WorkerOverrides = {}): Promise<WorkerContext> {
  const redis = overrides.redis ?? createWorkerConnection(config.redis, { logger });
  const keyPrefix = bridgeKeyPrefix(config.redis);
  const registry = createRegistry('worker');
  const metrics = workerMetrics(registry, [QUEUES.productions]);
  const connections = config.encryptionKey ? new ConnectionStore(redis, new Sealer(config.encryptionKey), { keyPrefix }) : null;
  const credentials = createCredentials({
    baseUrl: config.auphonicBaseUrl,
    apiKey: config.auphonicApiKey,
    connections,
    retries: { retries: config.requestRetries, baseMs: 200, maxMs: 3_000, retryAfterCapMs: 10_000 },
    onResponse: ({ operation, statusCode, ms }) =>
      metrics.auphonicRequestDuration.observe({ operation, status_code: String(statusCode) }, ms / 1000),
    privateRedirects: config.downloadAllowPrivate,
  });
  return {
    config,
    logger,
    redis,
    storage:
      overrides.storage ??
      (await createStorage(
        config.storage.kind === 's3'
          ? {
              ...config.storage,
              ownedRoots: LAYOUT_ROOTS,
              onAbortFailed: (key, err) =>
                logger.warn(
                  { key, code: err.code },
                  `could not abort a multipart upload (${err.message}): the sweep or a lifecycle rule removes it`,
                ),
            }
          : config.storage,
      )),
    registry,
    metrics,
    connections,
    credentials,
    productions: createProductionQueue(redis, { prefix: config.redis.prefix }),
    notifications: createNotificationQueue(redis, { prefix: config.redis.prefix }),
    keyPrefix,
    progress: new ProgressWatch(),
  };
}
