import { type Logger, matchesAnySecret } from '@auphonic-bridge/runtime';
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
  isReady: () => Promise<boolean>;
}

/** Keys whose values must never be shown, should a job ever carry one. */
const SECRET_KEY = /token|secret|password|authorization|api_?key/i;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}

/** bull-board over every queue, behind HTTP Basic (bull-board has no authentication of its own). */
export async function buildApp(deps: DashboardDeps) {
  const app = Fastify({ loggerInstance: deps.logger, requestTimeout: 30_000 });

  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/healthz', async (_req, reply) => {
    const ready = await deps.isReady().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable' });
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
        adapter.setFormatter('data', redact);
        adapter.setFormatter('returnValue', redact);
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
