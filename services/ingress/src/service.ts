import { once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { createOpsServer, createRegistry, ingressMetrics, QueueStats, registerQueueMetrics } from '@auphonic-bridge/metrics';
import {
  createProducerConnection,
  createProductionQueue,
  createReconcileQueue,
  type ProductionQueue,
  type ReconcileQueue,
} from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import type { Redis } from 'ioredis';
import { type App, buildApp } from './app.ts';
import type { IngressConfig } from './config.ts';
import { createEnqueuer, type Enqueuer } from './enqueue.ts';

/** Autoscalers and Prometheus may poll often: Redis sees one read of the queues per second at most. */
const QUEUE_STATS_TTL_MS = 1000;

/** The ingress process: Redis connection, queue producer, the public HTTP server and the operations one. */
export class IngressService implements Service {
  readonly app: App;
  readonly #ops: Server;
  readonly #config: IngressConfig;
  readonly #redis: Redis;
  readonly #enqueuer: Enqueuer;
  readonly #queue: ProductionQueue;
  /** For catch-ups of re-authorised connections; made only in External Service mode. */
  #reconcileQueue: ReconcileQueue | undefined;

  private constructor(config: IngressConfig, logger: Logger) {
    this.#config = config;
    this.#redis = createProducerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    this.#queue = createProductionQueue(this.#redis);
    // Without a listener an 'error' event would crash the process; callers see failures on add().
    this.#queue.on('error', () => {});
    this.#enqueuer = createEnqueuer(this.#queue, this.#redis, { timeoutMs: config.enqueueTimeoutMs });
    const registry = createRegistry('ingress');
    const stats = registerQueueMetrics(registry, new QueueStats([this.#queue], { ttlMs: QUEUE_STATS_TTL_MS }));
    this.#ops = createOpsServer(registry, async () => ({ ready: await this.#ping(), reason: 'redis unreachable' }), {
      '/queue-depth': async () => ({ queues: Object.fromEntries([...(await stats.get())].map(([name, f]) => [name, f.depth])) }),
    });
    this.app = buildApp({
      logger,
      enqueuer: this.#enqueuer,
      isReady: () => this.#ping(),
      metrics: ingressMetrics(registry),
      redis: this.#redis,
      webhookSecrets: config.webhookSecrets,
      bodyLimit: config.bodyLimit,
      service: config.externalService && this.#serviceDeps(config.externalService),
    });
  }

  static create(config: IngressConfig, logger: Logger): IngressService {
    return new IngressService(config, logger);
  }

  /** The address it listens on, once started. */
  get url(): string {
    return urlOf(this.app.server);
  }

  /** The operations port's address (/metrics, /queue-depth), once started. */
  get metricsUrl(): string {
    return urlOf(this.#ops);
  }

  /** Gives Redis a moment to connect first, but listens either way: /healthz then says 503. */
  async start(): Promise<void> {
    if (this.#redis.status !== 'ready') {
      await Promise.race([once(this.#redis, 'ready'), sleep(5_000, undefined, { ref: false })]).catch(() => {});
    }
    this.#ops.listen(this.#config.metricsPort, this.#config.metricsHost);
    await once(this.#ops, 'listening');
    await this.app.listen({ port: this.#config.port, host: this.#config.host });
  }

  /** Stops taking requests, lets those in flight finish, then lets go of Redis. */
  async destroy(): Promise<void> {
    await this.app.close();
    this.#ops.close();
    this.#ops.closeAllConnections();
    await this.#enqueuer.close().catch(() => {});
    await this.#queue.close().catch(() => {});
    await this.#reconcileQueue?.close().catch(() => {});
    this.#redis.disconnect();
  }

  #serviceDeps(config: NonNullable<IngressConfig['externalService']>) {
    const sealer = new Sealer(config.encryptionKeys);
    this.#reconcileQueue = createReconcileQueue(this.#redis);
    return { config, sealer, store: new ConnectionStore(this.#redis, sealer), reconcileQueue: this.#reconcileQueue };
  }

  async #ping(): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false;
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000).unref());
    return Promise.race([this.#redis.ping().then((r: string) => r === 'PONG'), timeout]);
  }
}

function urlOf(server: Server): string {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
