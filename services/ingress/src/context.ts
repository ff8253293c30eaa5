import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import {
  createRegistry,
  type IngressMetrics,
  ingressMetrics,
  QueueStats,
  type Registry,
  registerQueueMetrics,
} from '@auphonic-bridge/metrics';
import {
  bridgeKeyPrefix,
  createProducerConnection,
  createProductionQueue,
  createReconcileQueue,
  type ProductionQueue,
  pingRedis,
  type ReconcileQueue,
  type RedisConnection,
} from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { ExternalServiceConfig, IngressConfig } from './config.ts';
import { createEnqueuer, type Enqueuer } from './enqueue.ts';

/** Autoscalers and Prometheus may poll often: Redis sees one read of the queues per second at most. */
const QUEUE_STATS_TTL_MS = 1000;

/** Everything an ingress process works with, built once from its config. */
export interface IngressContext {
  config: IngressConfig;
  logger: Logger;
  redis: RedisConnection;
  queue: ProductionQueue;
  enqueuer: Enqueuer;
  registry: Registry;
  metrics: IngressMetrics;
  stats: QueueStats;
  /** External Service mode, when configured. */
  service: { config: ExternalServiceConfig; store: ConnectionStore; sealer: Sealer; reconcileQueue: ReconcileQueue } | null;
  isReady: () => Promise<{ ready: boolean; reason: string }>;
}

/** What a test may put in place of the real thing. */
export type IngressOverrides = Partial<Pick<IngressContext, 'redis' | 'enqueuer'>>;

export function fromConfig(config: IngressConfig, logger: Logger, overrides: IngressOverrides = {}): IngressContext {
  // No auto-pipelining: each of its pipelines copies the 64 scripts BullMQ defines (about 40 µs), more than the write it saves.
  // A Redis that stops answering while its socket stays open (a stopped process, a silent partition) would
  // hold every request for ever: each command gives up after ENQUEUE_TIMEOUT_MS, and the request is a 503.
  const redis = overrides.redis ?? createProducerConnection(config.redis, { logger, redis: { commandTimeout: config.enqueueTimeoutMs } });
  const { prefix } = config.redis;
  const queue = createProductionQueue(redis, { prefix });
  const registry = createRegistry('ingress');
  const stats = registerQueueMetrics(registry, new QueueStats([queue], { ttlMs: QUEUE_STATS_TTL_MS }));
  const external = config.externalService;
  let service: IngressContext['service'] = null;
  if (external) {
    const sealer = new Sealer(external.encryptionKeys);
    const store = new ConnectionStore(redis, sealer, { keyPrefix: bridgeKeyPrefix(config.redis) });
    service = { config: external, sealer, store, reconcileQueue: createReconcileQueue(redis, { prefix }) };
  }
  return {
    config,
    logger,
    redis,
    queue,
    enqueuer:
      overrides.enqueuer ??
      createEnqueuer(queue, redis, {
        timeoutMs: config.enqueueTimeoutMs,
        waitForAof: config.enqueueWaitAof,
        waitForReplicas: config.enqueueWaitReplicas,
      }),
    registry,
    metrics: ingressMetrics(registry),
    stats,
    service,
    isReady: async () => ({ ready: await pingRedis(redis), reason: 'redis unreachable' }),
  };
}
