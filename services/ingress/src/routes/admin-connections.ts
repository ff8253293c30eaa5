import { AuphonicClient } from '@auphonic-bridge/auphonic';
import { type Connection, type ConnectionStore, DecryptionError, type Sealer } from '@auphonic-bridge/connections';
import { matchesAnySecret } from '@auphonic-bridge/runtime';
import type { FastifyInstance } from 'fastify';
import type { ExternalServiceConfig } from '../config.ts';
import { registerService, webhookUrlFor } from '../connect-flow.ts';
import { authorizeUrlFor } from '../connect-links.ts';
import { HttpError } from '../errors.ts';

export interface AdminOptions {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  sealer: Sealer;
}

const displayName = { type: 'string', minLength: 1, maxLength: 200 } as const;
const customData = {} as const;
const returnUrl = { type: 'string', maxLength: 2000, pattern: '^https?://' } as const;
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } }, required: ['id'] } as const;

/** The admin API of the host's own backend: connections, never their tokens. Bearer ADMIN_TOKEN. */
export async function adminConnectionRoutes(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  const { config, store, sealer } = opts;
  const show = (c: Connection) => ({
    id: c.id,
    display_name: c.displayName,
    custom_data: c.customData,
    status: c.status,
    problem: c.problem,
    auphonic_user: c.auphonicUser ? { user_id: c.auphonicUser.userId, username: c.auphonicUser.username } : null,
    service_uuid: c.serviceUuid,
    webhook_url: webhookUrlFor(config, c.id),
    return_url: c.returnUrl,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  });
  const authorizeUrl = (c: Connection) => authorizeUrlFor(config, sealer, c);
  const found = async (id: string) => {
    const c = await store.get(id);
    if (!c) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
    return c;
  };

  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !matchesAnySecret(token, config.adminTokens)) {
      throw new HttpError(401, 'ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
  });

  app.post<{ Body: { display_name: string; custom_data?: unknown; return_url?: string } }>(
    '/api/connections',
    {
      schema: {
        body: {
          type: 'object',
          properties: { display_name: displayName, custom_data: customData, return_url: returnUrl },
          required: ['display_name'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const c = await store.create({
        displayName: request.body.display_name,
        customData: request.body.custom_data ?? null,
        returnUrl: request.body.return_url ?? null,
      });
      request.log.info({ connection: c.id }, 'connection created; waiting for the user to authorise');
      return reply.code(201).send({ id: c.id, authorize_url: authorizeUrl(c) });
    },
  );

  // Connecting again (a new token, e.g. after needs_reauth) is the host's decision, never a reused link's.
  // The link works once, and only for the Auphonic user the connection already has.
  app.post<{ Params: { id: string } }>('/api/connections/:id/reconnect', { schema: { params: idParams } }, async (request) => {
    const c = await store.renewConnectLink((await found(request.params.id)).id);
    if (!c) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
    request.log.info({ connection: c.id, status: c.status }, 'reconnect link issued');
    return { id: c.id, authorize_url: authorizeUrl(c) };
  });

  app.get('/api/connections', async () => ({ connections: (await store.list()).map(show) }));

  app.get<{ Params: { id: string } }>('/api/connections/:id', { schema: { params: idParams } }, async (request) =>
    show(await found(request.params.id)),
  );

  // Another display_name (or new custom_data) for a user already connected: no new OAuth round.
  app.post<{ Params: { id: string }; Body: { display_name: string; custom_data?: unknown } }>(
    '/api/connections/:id/services',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: { display_name: displayName, custom_data: customData },
          required: ['display_name'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const base = await found(request.params.id);
      const user = base.auphonicUser;
      const token = await store.accessToken(base).catch((err: unknown) => {
        // The operator's to fix (a key changed without ENCRYPTION_KEY_PREVIOUS): say so, not "internal error".
        throw err instanceof DecryptionError ? new HttpError(500, err.code, err.message) : err;
      });
      if (!user || !token || base.status !== 'connected') {
        throw new HttpError(409, 'ERR_NOT_CONNECTED', `connection is ${base.status}; the user must authorise first`);
      }
      const existing = await store.findByUserAndName(user.userId, request.body.display_name);
      const target = existing
        ? ((await store.update(existing.id, { customData: request.body.custom_data ?? null })) ?? existing)
        : await store.create({
            displayName: request.body.display_name,
            customData: request.body.custom_data ?? null,
            returnUrl: null,
            auphonicUser: user,
          });
      const client = new AuphonicClient({ baseUrl: config.auphonicBaseUrl, token });
      const registered = await registerService(config, store, client, target, user, request.log);
      return reply.code(existing ? 200 : 201).send(show(registered));
    },
  );

  // Auphonic documents no way to delete a service: the registration there stays until the user removes it.
  app.delete<{ Params: { id: string } }>('/api/connections/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (!(await store.remove(request.params.id))) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
    return reply.code(204).send();
  });
}
