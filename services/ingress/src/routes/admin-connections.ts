import { AuphonicClient } from '@auphonic-bridge/auphonic';
import { type Connection, type ConnectionStore, DecryptionError, type Sealer } from '@auphonic-bridge/connections';
import { checkOutboundUrl } from '@auphonic-bridge/runtime';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireAdmin } from '../admin-auth.ts';
import type { ExternalServiceConfig } from '../config.ts';
import { registerService, webhookUrlFor } from '../connect-flow.ts';
import { authorizeUrlFor } from '../connect-links.ts';
import { auphonicRefusal, HttpError } from '../errors.ts';
import { ADMIN, ConnectionIdParams, errors } from '../schemas/common.ts';
import {
  AuthorizeLink,
  Connection as ConnectionBody,
  ConnectionList,
  CreateConnectionBody,
  PatchConnectionBody,
  ServiceBody,
} from '../schemas/connections.ts';

export interface AdminOptions {
  adminTokens: readonly string[];
  config: ExternalServiceConfig;
  store: ConnectionStore;
  sealer: Sealer;
}

const unauthorized = { 401: 'no or wrong ADMIN_TOKEN' };
const notFound = { ...unauthorized, 404: 'no such connection' };

/** The admin API of the host's own backend: connections, never their tokens. Bearer ADMIN_TOKEN. */
export async function adminConnectionRoutes(instance: FastifyInstance, opts: AdminOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { config, store, sealer } = opts;
  const show = (c: Connection): ConnectionBody => ({
    id: c.id,
    display_name: c.displayName,
    custom_data: c.customData,
    status: c.status,
    problem: c.problem,
    auphonic_user: c.auphonicUser ? { user_id: c.auphonicUser.userId, username: c.auphonicUser.username } : null,
    service_uuid: c.serviceUuid,
    webhook_url: webhookUrlFor(config, c.id),
    return_url: c.returnUrl,
    notify_url: c.notifyUrl ?? null,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  });
  const authorizeUrl = (c: Connection) => authorizeUrlFor(config, sealer, c);
  const found = async (id: string) => {
    const c = await store.get(id);
    if (!c) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
    return c;
  };

  app.addHook('onRequest', requireAdmin(opts.adminTokens));

  app.post(
    '/api/connections',
    {
      schema: {
        summary: 'Start connecting a user: answers the link to send their browser to',
        security: ADMIN,
        body: CreateConnectionBody,
        response: { 201: AuthorizeLink, ...errors({ 400: 'invalid body', ...unauthorized }) },
      },
    },
    async (request, reply) => {
      // The schema checks the scheme only; the callback builds a URL from it.
      if (request.body.return_url !== undefined && !URL.canParse(request.body.return_url)) {
        throw new HttpError(400, 'ERR_BAD_REQUEST', 'return_url is not a valid URL');
      }
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
  app.post(
    '/api/connections/:id/reconnect',
    {
      schema: {
        summary: 'A new link to authorise this connection again (same Auphonic user only); earlier links stop working',
        security: ADMIN,
        params: ConnectionIdParams,
        response: { 200: AuthorizeLink, ...errors(notFound) },
      },
    },
    async (request) => {
      const c = await store.renewConnectLink((await found(request.params.id)).id);
      if (!c) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
      request.log.info({ connection: c.id, status: c.status }, 'reconnect link issued');
      return { id: c.id, authorize_url: authorizeUrl(c) };
    },
  );

  app.get(
    '/api/connections',
    {
      schema: {
        summary: 'List connections (never their tokens)',
        security: ADMIN,
        response: { 200: ConnectionList, ...errors(unauthorized) },
      },
    },
    async () => ({ connections: (await store.list()).map(show) }),
  );

  app.get(
    '/api/connections/:id',
    {
      schema: {
        summary: 'One connection',
        security: ADMIN,
        params: ConnectionIdParams,
        response: { 200: ConnectionBody, ...errors(notFound) },
      },
    },
    async (request) => show(await found(request.params.id)),
  );

  // Another display_name (or new custom_data) for a user already connected: no new OAuth round.
  app.post(
    '/api/connections/:id/services',
    {
      schema: {
        summary: "Register another display_name/custom_data for this connection's user (the same display_name updates)",
        security: ADMIN,
        params: ConnectionIdParams,
        body: ServiceBody,
        response: {
          200: { ...ConnectionBody, description: 'existing connection updated' },
          201: { ...ConnectionBody, description: 'new connection registered' },
          ...errors({
            ...notFound,
            409: 'the user has not authorised yet, or must again (Auphonic refused their token)',
            502: 'Auphonic failed or could not be reached; nothing was changed',
          }),
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
      const customData = request.body.custom_data ?? null;
      const existing = await store.findByUserAndName(user.userId, request.body.display_name);
      // An existing connection takes the new custom_data only once Auphonic has it; a new one is dropped if Auphonic fails.
      const target = existing
        ? { ...existing, customData }
        : await store.create({ displayName: request.body.display_name, customData, returnUrl: null, auphonicUser: user });
      const client = new AuphonicClient({ baseUrl: config.auphonicBaseUrl, token });
      let registered: Connection;
      try {
        registered = await registerService(config, store, client, target, user, request.log);
      } catch (err) {
        if (!existing) await store.remove(target.id);
        throw await auphonicRefusal(err, () => store.markNeedsReauth(user.userId, (err as Error).message));
      }
      if (existing) registered = (await store.update(existing.id, { customData })) ?? registered;
      return reply.code(existing ? 200 : 201).send(show(registered));
    },
  );

  app.patch(
    '/api/connections/:id',
    {
      schema: {
        summary: 'Change a connection: where its productions are announced (notify_url)',
        security: ADMIN,
        params: ConnectionIdParams,
        body: PatchConnectionBody,
        response: { 200: ConnectionBody, ...errors({ ...notFound, 400: 'invalid body, or a notify_url that is refused' }) },
      },
    },
    async (request) => {
      await found(request.params.id);
      const { notify_url: notifyUrl } = request.body;
      if (notifyUrl) {
        try {
          checkOutboundUrl(notifyUrl, { allowPrivate: config.notifyAllowPrivate });
        } catch (err) {
          throw new HttpError(400, 'ERR_BAD_NOTIFY_URL', `notify_url ${(err as Error).message}`);
        }
      }
      const updated = await store.update(request.params.id, notifyUrl === undefined ? {} : { notifyUrl: notifyUrl || null });
      if (!updated) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
      request.log.info({ connection: updated.id, notify: notifyUrl ? 'set' : 'NOTIFY_URL' }, 'connection changed');
      return show(updated);
    },
  );

  // Auphonic documents no way to delete a service: the registration there stays until the user removes it.
  app.delete(
    '/api/connections/:id',
    {
      schema: {
        summary: 'Remove a connection (its webhook stops working; Auphonic keeps its service entry until the user removes it)',
        security: ADMIN,
        params: ConnectionIdParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errors(notFound) },
      },
    },
    async (request, reply) => {
      if (!(await store.remove(request.params.id))) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such connection');
      return reply.code(204).send(null);
    },
  );
}
