import { healthAnswer, LIVE, type Readiness } from '@auphonic-bridge/runtime';
import type { FastifyInstance } from 'fastify';
import { HealthBody } from '../schemas/common.ts';

/**
 * The probes, on the public port too (where load balancers look): GET /livez
 * (the process answers), GET /healthz (webhooks can be taken: Redis answers).
 * The answers are the operations port's (packages/metrics); /metrics and
 * /queue-depth are served there only.
 */
export async function operationsRoutes(app: FastifyInstance, opts: { isReady: Readiness }): Promise<void> {
  app.get('/livez', { schema: { summary: 'The process answers', response: { 200: HealthBody } } }, async () => LIVE);
  app.get(
    '/healthz',
    { schema: { summary: 'Ready to take webhooks (Redis reachable)', response: { 200: HealthBody, 503: HealthBody } } },
    async (_request, reply) => {
      const { statusCode, body } = await healthAnswer(opts.isReady);
      return reply.code(statusCode).send(body);
    },
  );
}
