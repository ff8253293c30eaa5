import { untilRedisReady } from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { buildApp } from './app.ts';
import type { DashboardConfig } from './config.ts';
import { type DashboardContext, fromConfig } from './context.ts';

/** The dashboard process: the web app over the queues; start and stop only (the parts come from context.ts). */
export class DashboardService implements Service {
  readonly #ctx: DashboardContext;
  #app: Awaited<ReturnType<typeof buildApp>> | undefined;

  private constructor(ctx: DashboardContext) {
    this.#ctx = ctx;
  }

  static create(config: DashboardConfig, logger: Logger): DashboardService {
    return new DashboardService(fromConfig(config, logger));
  }

  get url(): string {
    const address = this.#app?.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Gives Redis a moment to connect first, as the ingress does, but listens either way: /healthz then says 503. */
  async start(): Promise<void> {
    const { config, logger, queues, isReady } = this.#ctx;
    if (!config.credentials) logger.warn('DASHBOARD_OPEN=true: the dashboard has no authentication');
    await untilRedisReady(this.#ctx.redis);
    this.#app = await buildApp({ logger, queues, credentials: config.credentials, allowActions: config.allowActions, isReady });
    await this.#app.listen({ port: config.port, host: config.host });
  }

  async destroy(): Promise<void> {
    await this.#app?.close();
    for (const q of this.#ctx.queues) await q.close().catch(() => {});
    this.#ctx.redis.disconnect();
  }
}
