import { type QueueDepth, queueDepth, type Registry } from '@auphonic-bridge/metrics';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export interface OperationsOptions {
  /** Resolves when the queue can take jobs. */
  isReady: () => Promise<boolean>;
  registry: Registry;
  queues: Queue[];
}

/**
 * For the platform, not for Auphonic: GET /livez (the process answers),
 * GET /healthz (webhooks can be taken: Redis answers), GET /metrics
 * (Prometheus), GET /queue-depth (what autoscaling reads).
 */
export async function operationsRoutes(app: FastifyInstance, opts: OperationsOptions): Promise<void> {
  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/healthz', async (_request, reply) => {
    const ready = await opts.isReady().catch(() => false);
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ok' } : { status: 'unavailable', reason: 'redis unreachable' });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(body);
  });

  app.get('/queue-depth', async () => {
    const queues: Record<string, QueueDepth> = {};
    for (const q of opts.queues) queues[q.name] = await queueDepth(q);
    return { queues };
  });
}
