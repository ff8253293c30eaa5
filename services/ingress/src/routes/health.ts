import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  /** Resolves when the queue can take jobs. */
  isReady: () => Promise<boolean>;
}

/** GET /healthz: 200 when webhooks can be taken (Redis answers), else 503. */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    const ready = await opts.isReady().catch(() => false);
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ok' } : { status: 'unavailable', reason: 'redis unreachable' });
  });
}
