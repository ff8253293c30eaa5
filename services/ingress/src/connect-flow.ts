import { AuphonicClient, exchangeCode } from '@auphonic-bridge/auphonic';
import type { Connection, ConnectionStore } from '@auphonic-bridge/connections';
import { addConnectionReconcile, type ReconcileQueue } from '@auphonic-bridge/queue';
import type { FastifyBaseLogger } from 'fastify';
import type { ExternalServiceConfig } from './config.ts';
import { HttpError } from './errors.ts';

/** The webhook URL registered for a connection: unique to it, and unguessable (its id is 128 random bits). */
export function webhookUrlFor(config: ExternalServiceConfig, connectionId: string): string {
  return `${config.publicUrl}/webhooks/service/${connectionId}`;
}

export function redirectUriFor(config: ExternalServiceConfig): string {
  return `${config.publicUrl}/oauth/callback`;
}

/** The request's logger. */
type Log = Pick<FastifyBaseLogger, 'warn'>;

export interface ConnectDeps {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  reconcileQueue: ReconcileQueue;
}

/** Auphonic's webhook for this connection keeps coming from its user's service: the worker must keep that user's token. */
export const otherAuphonicUser = () =>
  new HttpError(
    409,
    'ERR_OTHER_AUPHONIC_USER',
    'You signed in to Auphonic with another account than the one this connection belongs to, so nothing was changed. ' +
      'Sign in to Auphonic with that account and use the link again, or ask for a new link to connect another account.',
  );

/**
 * After Auphonic sent the browser back with a code: exchange it, learn whose
 * token it is, seal and keep the token, and register the service. A
 * connection never changes its Auphonic user: another user is refused and
 * nothing is stored. For the same user and display_name Auphonic updates its
 * service, and so do we: the existing connection is kept and the new pending
 * one dropped. Connections of this user that needed re-authorisation work
 * again, and each gets a catch-up (reconcile) job.
 */
export async function completeConnection(deps: ConnectDeps, connection: Connection, code: string, log: Log): Promise<Connection> {
  const { config, store } = deps;
  const { accessToken } = await exchangeCode(
    {
      baseUrl: config.auphonicBaseUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecrets[0] ?? '',
      redirectUri: redirectUriFor(config),
    },
    code,
  );
  const client = new AuphonicClient({ baseUrl: config.auphonicBaseUrl, token: accessToken });
  const user = await client.getUser();
  if (connection.auphonicUser && connection.auphonicUser.userId !== user.userId) {
    log.warn(
      { connection: connection.id, owner: connection.auphonicUser.userId, signedIn: user.userId },
      'connect refused: another Auphonic user',
    );
    throw otherAuphonicUser();
  }
  await store.saveAccessToken(user.userId, accessToken);

  // The user's connection of this name already exists: it takes this one's custom_data and return_url, but only
  // once Auphonic has registered it; until then a failure leaves both as they were, the link still usable.
  let merged: Connection | null = null;
  if (!connection.auphonicUser) {
    const existing = await store.findByUserAndName(user.userId, connection.displayName);
    if (existing && existing.id !== connection.id)
      merged = { ...existing, customData: connection.customData, returnUrl: connection.returnUrl };
  }
  const reauthorised = (await store.list()).filter((c) => c.auphonicUser?.userId === user.userId && c.status === 'needs_reauth');
  let connected = await registerService(config, store, client, merged ?? connection, { userId: user.userId, username: user.username }, log);
  if (merged) {
    connected = (await store.update(merged.id, { customData: merged.customData, returnUrl: merged.returnUrl })) ?? connected;
    await store.remove(connection.id);
  }
  for (const c of reauthorised) {
    // The token is the user's, so their other connections work again too.
    if (c.id !== connected.id) await store.update(c.id, { status: 'connected', problem: null });
    // The safety net only: the periodic reconciler catches up too, should this fail.
    await addConnectionReconcile(deps.reconcileQueue, c.id).catch((err: Error) =>
      log.warn({ connection: c.id }, `could not queue a reconcile: ${err.message}`),
    );
  }
  return connected;
}

/** Calls POST /api/service/connect.json for a connection and marks it connected; its link is used up. */
export async function registerService(
  config: ExternalServiceConfig,
  store: ConnectionStore,
  client: AuphonicClient,
  connection: Connection,
  user: { userId: string; username: string },
  log: Log,
): Promise<Connection> {
  const webhookUrl = webhookUrlFor(config, connection.id);
  const { uuid } = await client.connectService({
    display_name: connection.displayName,
    webhook_url: webhookUrl,
    custom_data: connection.customData,
  });
  const serviceUuid = uuid ?? (await findServiceUuid(client, connection.displayName, webhookUrl, log)) ?? connection.serviceUuid;
  const updated = await store.update(connection.id, {
    status: 'connected',
    auphonicUser: user,
    serviceUuid,
    problem: null,
    connectLink: null,
  });
  return updated ?? connection;
}

/**
 * connect.json's answer is undocumented: when it names no uuid, the user's
 * services list does. Ours has our display_name (one per user and name) and,
 * where the list shows it, our webhook_url. Null when that is not one service.
 */
async function findServiceUuid(client: AuphonicClient, displayName: string, webhookUrl: string, log: Log): Promise<string | null> {
  let services: Awaited<ReturnType<AuphonicClient['listServices']>>;
  try {
    services = await client.listServices();
  } catch (err) {
    log.warn({ code: (err as { code?: unknown }).code }, `service uuid unknown: ${(err as Error).message}`);
    return null;
  }
  const named = services.filter((s) => s.displayName === displayName && (s.webhookUrl === null || s.webhookUrl === webhookUrl));
  const exact = named.filter((s) => s.webhookUrl === webhookUrl);
  const found = exact.length === 1 ? exact[0] : named.length === 1 ? named[0] : undefined;
  if (!found) log.warn({ candidates: named.length }, 'service uuid unknown: not one matching service in the services list');
  return found?.uuid ?? null;
}
