import { once } from 'node:events';
import type { Server } from 'node:http';
import { createOpsServer } from '@auphonic-bridge/metrics';
import { bridgeKeyPrefix, untilRedisReady } from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { type App, buildApp } from './app.ts';
import type { IngressConfig } from './config.ts';
import { fromConfig, type IngressContext, type IngressOverrides } from './context.ts';
import { warnIfNotDurable } from './durability.ts';

/** The ingress process: the public HTTP server and the operations one; start and stop only (the parts come from context.ts). */
export class IngressService implements Service {
  readonly app: App;
  readonly #ctx: IngressContext;
  readonly #ops: Server;

  private constructor(ctx: IngressContext) {
    this.#ctx = ctx;
    const { config, stats } = ctx;
    this.#ops = createOpsServer(ctx.registry, ctx.isReady, {
      '/queue-depth': async () => ({ queues: Object.fromEntries([...(await stats.get())].map(([name, f]) => [name, f.depth])) }),
    });
    this.app = buildApp({
      logger: ctx.logger,
      enqueuer: ctx.enqueuer,
      isReady: ctx.isReady,
      metrics: ctx.metrics,
      redis: ctx.redis,
      keyPrefix: bridgeKeyPrefix(config.redis),
      webhookSecrets: config.webhookSecrets,
      adminTokens: config.adminTokens,
      bodyLimit: config.bodyLimit,
      service: ctx.service,
    });
  }

  static create(config: IngressConfig, logger: Logger, overrides: IngressOverrides = {}): IngressService {
    return new IngressService(fromConfig(config, logger, overrides));
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
    const { config, redis, logger } = this.#ctx;
    // ENQUEUE_WAIT_AOF needs WAITAOF: with it on, not a webhook is taken before Redis's version is known
    // (an older Redis would answer every one 503, its job already added).
    let ready = await untilRedisReady(redis);
    while (!ready && config.enqueueWaitAof) {
      logger.warn('waiting for Redis: ENQUEUE_WAIT_AOF needs its version known before webhooks are taken');
      ready = await untilRedisReady(redis, 30_000);
    }
    if (ready) await warnIfNotDurable(redis, config, logger);
    this.#ops.listen(config.metricsPort, config.metricsHost);
    await once(this.#ops, 'listening');
    await this.app.listen({ port: config.port, host: config.host });
    // Fastify has no logger of its own here (see app.ts), so it does not say this itself.
    logger.info({ url: this.url, metrics: this.metricsUrl }, 'listening');
  }

  /** Stops taking requests, lets those in flight finish, then lets go of Redis. */
  async destroy(): Promise<void> {
    const { enqueuer, queue, service, redis } = this.#ctx;
    await this.app.close();
    this.#ops.close();
    this.#ops.closeAllConnections();
    await enqueuer.close().catch(() => {});
    await queue.close().catch(() => {});
    await service?.reconcileQueue.close().catch(() => {});
    redis.disconnect();
  }
}

function urlOf(server: Server): string {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
