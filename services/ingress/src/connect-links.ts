import { CONNECTION_ID_PATTERN, type Connection, type OAuthFlow, type Sealer } from '@auphonic-bridge/connections';
import type { ExternalServiceConfig } from './config.ts';

/** How long an authorize_url may sit in an email or a page before it is used. */
export const START_LINK_TTL_MS = 24 * 3600_000;

// Signed values say what they are for, so that one kind is never taken for another.
const LINK = 'connect.';

/** The link a user's browser is sent to: /oauth/start with the connection and its current link value, signed. */
export function authorizeUrlFor(config: ExternalServiceConfig, sealer: Sealer, connection: Connection): string {
  const t = sealer.sign(`${LINK}${connection.id}.${connection.connectLink ?? ''}`, START_LINK_TTL_MS);
  return `${config.publicUrl}/oauth/start?t=${encodeURIComponent(t)}`;
}

/** The connection and link value of a start link; null when forged, altered or expired. */
export function readStartLink(sealer: Sealer, t: string): OAuthFlow | null {
  const payload = sealer.verify(t);
  if (payload === null) return null;
  // Links issued before they carried a value held the connection id alone.
  if (CONNECTION_ID_PATTERN.test(payload)) return { connectionId: payload, link: null };
  if (!payload.startsWith(LINK)) return null;
  const [connectionId = '', link = ''] = payload.slice(LINK.length).split('.');
  return CONNECTION_ID_PATTERN.test(connectionId) && link ? { connectionId, link } : null;
}

/**
 * A link connects once: it works while its value is the connection's current
 * one (the callback clears it, a reconnect replaces it). A link from before
 * links carried a value works only while the connection was never connected.
 */
export function linkIsCurrent(connection: Connection, link: string | null): boolean {
  if (link === null) return connection.status === 'pending' && connection.connectLink === undefined;
  return connection.connectLink === link;
}
