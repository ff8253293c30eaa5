import type { FastifyInstance } from 'fastify';

export interface OperationsOptions {
  /** Resolves when the queue can take jobs. */
  isReady: () => Promise<boolean>;
}

/**
 * The probes, on the public port too (where load balancers look):
 * GET /livez (the process answers), GET /healthz (webhooks can be taken:
 * Redis answers). /metrics and /queue-depth are on METRICS_PORT only.
 */
export async function operationsRoutes(app: FastifyInstance, opts: OperationsOptions): Promise<void> {
  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/healthz', async (_request, reply) => {
    const ready = await opts.isReady().catch(() => false);
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ok' } : { status: 'unavailable', reason: 'redis unreachable' });
  });
}
