import type { ConnectionStore } from '@auphonic-bridge/connections';
import type { Owner } from '@auphonic-bridge/queue';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../admin-auth.ts';
import type { Enqueuer } from '../enqueue.ts';
import { HttpError, unavailableOnFailure } from '../errors.ts';
import { ADMIN, errors } from '../schemas/common.ts';
import { ProductionUuidParams, ReplayBody, Replayed } from '../schemas/productions.ts';

export interface AdminProductionOptions {
  adminTokens: readonly string[];
  enqueuer: Enqueuer;
  /** The connections, in External Service mode; without them every connection_id is unknown. */
  store: ConnectionStore | null;
}

/**
 * The operator's replay (as `pnpm bridge replay`): queue a production again. Without force
 * the worker downloads nothing for an unchanged production; with force it fetches and verifies
 * every file again. Served whenever ADMIN_TOKEN is set, in either mode.
 */
export async function adminProductionRoutes(instance: FastifyInstance, opts: AdminProductionOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', requireAdmin(opts.adminTokens));

  app.post(
    '/api/productions/:uuid/replay',
    {
      schema: {
        summary: 'Queue a production again (force: download and verify every file again)',
        security: ADMIN,
        params: ProductionUuidParams,
        body: ReplayBody,
        response: {
          202: Replayed,
          ...errors({ 400: 'invalid uuid or body', 401: 'no or wrong ADMIN_TOKEN', 404: 'no such connection', 503: 'cannot queue now' }),
        },
      },
      // No body at all is a replay with the defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { uuid } = request.params;
      const { connection_id: connectionId, force = false } = request.body;
      if (connectionId !== undefined) {
        const known = opts.store ? await unavailableOnFailure(opts.store.get(connectionId)) : null;
        if (!known) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
      }
      const owner: Owner = connectionId === undefined ? { kind: 'account' } : { kind: 'connection', id: connectionId };
      const jobId = await opts.enqueuer.enqueueProduction({ uuid, owner, reportedStatus: null, force });
      request.log.info({ uuid, owner, force, jobId }, 'production replay queued');
      return reply.code(202).send({ status: 'queued', uuid, job_id: jobId, force });
    },
  );
}
