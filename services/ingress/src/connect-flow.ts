import { AuphonicClient, exchangeCode } from '@auphonic-bridge/auphonic';
import type { Connection, ConnectionStore } from '@auphonic-bridge/connections';
import type { ExternalServiceConfig } from './config.ts';

/** The webhook URL registered for a connection: unique to it, and unguessable (its id is 128 random bits). */
export function webhookUrlFor(config: ExternalServiceConfig, connectionId: string): string {
  return `${config.publicUrl}/webhooks/service/${connectionId}`;
}

export function redirectUriFor(config: ExternalServiceConfig): string {
  return `${config.publicUrl}/oauth/callback`;
}

/**
 * After Auphonic sent the browser back with a code: exchange it, learn whose
 * token it is, seal and keep the token, and register the service. For the
 * same user and display_name Auphonic updates its service, and so do we: the
 * existing connection is kept and the new pending one dropped.
 */
export async function completeConnection(
  config: ExternalServiceConfig,
  store: ConnectionStore,
  pending: Connection,
  code: string,
): Promise<Connection> {
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
  await store.saveAccessToken(user.userId, accessToken);

  const existing = await store.findByUserAndName(user.userId, pending.displayName);
  let target = pending;
  if (existing && existing.id !== pending.id) {
    target = (await store.update(existing.id, { customData: pending.customData, returnUrl: pending.returnUrl })) ?? existing;
    await store.remove(pending.id);
  }
  return registerService(config, store, client, target, { userId: user.userId, username: user.username });
}

/** Calls POST /api/service/connect.json for a connection and marks it connected. */
export async function registerService(
  config: ExternalServiceConfig,
  store: ConnectionStore,
  client: AuphonicClient,
  connection: Connection,
  user: { userId: string; username: string },
): Promise<Connection> {
  const { uuid } = await client.connectService({
    display_name: connection.displayName,
    webhook_url: webhookUrlFor(config, connection.id),
    custom_data: connection.customData,
  });
  const updated = await store.update(connection.id, {
    status: 'connected',
    auphonicUser: user,
    serviceUuid: uuid ?? connection.serviceUuid,
    problem: null,
  });
  return updated ?? connection;
}
