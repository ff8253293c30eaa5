import { createProducerConnection, createProductionQueue, QUEUES } from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { buildApp } from './app.ts';
import type { DashboardConfig } from './config.ts';

/** The dashboard process: one Redis connection, the queues, the web app. */
export class DashboardService implements Service {
  readonly #config: DashboardConfig;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #queues: Queue[];
  #app: Awaited<ReturnType<typeof buildApp>> | undefined;

  private constructor(config: DashboardConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#redis = createProducerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    this.#queues = [createProductionQueue(this.#redis), new Queue(QUEUES.reconcile, { connection: this.#redis })];
    for (const q of this.#queues) q.on('error', () => {});
  }

  static create(config: DashboardConfig, logger: Logger): DashboardService {
    return new DashboardService(config, logger);
  }

  get url(): string {
    const address = this.#app?.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    if (!this.#config.credentials) this.#logger.warn('DASHBOARD_OPEN=true: the dashboard has no authentication');
    this.#app = await buildApp({
      logger: this.#logger,
      queues: this.#queues,
      credentials: this.#config.credentials,
      allowActions: this.#config.allowActions,
      isReady: async () => this.#redis.status === 'ready' && (await this.#redis.ping()) === 'PONG',
    });
    await this.#app.listen({ port: this.#config.port, host: this.#config.host });
  }

  async destroy(): Promise<void> {
    await this.#app?.close();
    for (const q of this.#queues) await q.close().catch(() => {});
    this.#redis.disconnect();
  }
}
