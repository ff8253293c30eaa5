import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProducerConnection } from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import type { Redis } from 'ioredis';
import { type App, buildApp } from './app.ts';
import type { IngressConfig } from './config.ts';
import { createEnqueuer, type Enqueuer } from './enqueue.ts';

/** The ingress process: Redis connection, queue producer and HTTP server. */
export class IngressService implements Service {
  readonly app: App;
  readonly #config: IngressConfig;
  readonly #redis: Redis;
  readonly #enqueuer: Enqueuer;

  private constructor(config: IngressConfig, logger: Logger) {
    this.#config = config;
    this.#redis = createProducerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    this.#enqueuer = createEnqueuer(this.#redis, { timeoutMs: config.enqueueTimeoutMs });
    this.app = buildApp({
      logger,
      enqueuer: this.#enqueuer,
      isReady: () => this.#ping(),
      webhookSecrets: config.webhookSecrets,
      bodyLimit: config.bodyLimit,
    });
  }

  static create(config: IngressConfig, logger: Logger): IngressService {
    return new IngressService(config, logger);
  }

  /** The address it listens on, once started. */
  get url(): string {
    const address = this.app.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Gives Redis a moment to connect first, but listens either way: /healthz then says 503. */
  async start(): Promise<void> {
    if (this.#redis.status !== 'ready') {
      await Promise.race([once(this.#redis, 'ready'), sleep(5_000, undefined, { ref: false })]).catch(() => {});
    }
    await this.app.listen({ port: this.#config.port, host: this.#config.host });
  }

  /** Stops taking requests, lets those in flight finish, then lets go of Redis. */
  async destroy(): Promise<void> {
    await this.app.close();
    await this.#enqueuer.close().catch(() => {});
    this.#redis.disconnect();
  }

  async #ping(): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false;
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000).unref());
    return Promise.race([this.#redis.ping().then((r: string) => r === 'PONG'), timeout]);
  }
}
