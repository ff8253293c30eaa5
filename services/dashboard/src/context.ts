import {
  createNotificationQueue,
  createProducerConnection,
  createProductionQueue,
  createReconcileQueue,
  pingRedis,
  type RedisConnection,
} from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { Queue } from 'bullmq';
import type { DashboardConfig } from './config.ts';

/** Everything a dashboard process works with, built once from its config. */
export interface DashboardContext {
  config: DashboardConfig;
  logger: Logger;
  redis: RedisConnection;
  /** Every queue of the bridge, as bull-board shows them. */
  queues: Queue[];
  isReady: () => Promise<{ ready: boolean; reason: string }>;
}

export function fromConfig(config: DashboardConfig, logger: Logger, overrides: { redis?: RedisConnection } = {}): DashboardContext {
  const redis = overrides.redis ?? createProducerConnection(config.redis, { logger });
  const { prefix } = config.redis;
  return {
    config,
    logger,
    redis,
    queues: [createProductionQueue(redis, { prefix }), createReconcileQueue(redis, { prefix }), createNotificationQueue(redis, { prefix })],
    isReady: async () => ({ ready: await pingRedis(redis), reason: 'redis unreachable' }),
  };
}
