import { healthAnswer, LIVE, type Logger, matchesAnySecret, type Readiness, redactCredentials } from '@auphonic-bridge/runtime';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import basicAuth from '@fastify/basic-auth';
import type { Queue } from 'bullmq';
import Fastify from 'fastify';

export interface DashboardDeps {
  logger: Logger;
  queues: Queue[];
  credentials: { user: string; password: string } | null;
  allowActions: boolean;
  isReady: Readiness;
}

/** bull-board over every queue, behind HTTP Basic (bull-board has no authentication of its own). */
export async function buildApp(deps: DashboardDeps) {
  const app = Fastify({ loggerInstance: deps.logger, requestTimeout: 30_000 });

  app.get('/livez', async () => LIVE);
  app.get('/healthz', async (_req, reply) => {
    const { statusCode, body } = await healthAnswer(deps.isReady);
    return reply.code(statusCode).send(body);
  });

  await app.register(async (board) => {
    if (deps.credentials) {
      const { user, password } = deps.credentials;
      await board.register(basicAuth, {
        authenticate: { realm: 'auphonic-bridge' },
        validate: async (u, p) => {
          // Both compared, always: timing says nothing about which was wrong.
          const ok = [matchesAnySecret(u, [user]), matchesAnySecret(p, [password])].every(Boolean);
          if (!ok) throw new Error('wrong user or password');
        },
      });
      board.addHook('onRequest', board.basicAuth);
    }
    const serverAdapter = new FastifyAdapter();
    createBullBoard({
      queues: deps.queues.map((q) => {
        const adapter = new BullMQAdapter(q, { readOnlyMode: !deps.allowActions, allowRetries: deps.allowActions });
        // Jobs carry ids only; should one ever carry a credential, it is not shown.
        adapter.setFormatter('data', redactCredentials);
        adapter.setFormatter('returnValue', redactCredentials);
        return adapter;
      }),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'auphonic-bridge' } },
    });
    serverAdapter.setBasePath('/');
    await board.register(serverAdapter.registerPlugin(), { prefix: '/' });
  });
  return app;
}
