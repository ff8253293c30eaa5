import { AuphonicClient, type QuickRetryPolicy, type ResponseObserver } from '@auphonic-bridge/auphonic';
import { type Connection, type ConnectionStore, DecryptionError } from '@auphonic-bridge/connections';
import type { Owner } from '@auphonic-bridge/queue';
import { IngestError } from './errors.ts';

/** What a job may call Auphonic with, and what to do when Auphonic refuses it. */
export interface Credentials {
  client: AuphonicClient;
  /** Auphonic answered 401: remember it, so that later jobs do not hammer Auphonic. */
  rejected(reason: string): Promise<void>;
}

export interface CredentialSources {
  baseUrl: URL;
  /** The account's API key, when this worker serves production webhooks. */
  apiKey: string | null;
  /** Connections and their sealed tokens, when it serves the External Service. */
  connections: ConnectionStore | null;
  /** Quick retries of one request within an attempt (REQUEST_RETRIES). */
  retries?: QuickRetryPolicy;
  onResponse?: ResponseObserver;
  /** DOWNLOAD_ALLOW_PRIVATE; else private redirects only when Auphonic itself is private (the client's default). */
  privateRedirects?: boolean;
}

/** How many owners' clients are kept (a client per token: its connection pool is reused from job to job). */
const KEPT_CLIENTS = 1000;

/** Looks credentials up by owner (the job itself carries ids only), one Auphonic client per token. */
export function createCredentials(sources: CredentialSources): (owner: Owner) => Promise<Credentials> {
  const clients = new Map<string, AuphonicClient>();
  const client = (token: string): AuphonicClient => {
    let kept = clients.get(token);
    if (kept) {
      clients.delete(token); // to the end: the most recently used
    } else {
      kept = new AuphonicClient({
        baseUrl: sources.baseUrl,
        token,
        retries: sources.retries,
        onResponse: sources.onResponse,
        ...(sources.privateRedirects ? { privateRedirects: true } : {}),
      });
      if (clients.size >= KEPT_CLIENTS) clients.delete(clients.keys().next().value as string);
    }
    clients.set(token, kept);
    return kept;
  };
  return (owner) => credentialsFor(sources, owner, client);
}

async function credentialsFor(sources: CredentialSources, owner: Owner, client: (token: string) => AuphonicClient): Promise<Credentials> {
  if (owner.kind === 'account') {
    if (!sources.apiKey) throw new IngestError('ERR_NO_CREDENTIALS', 'AUPHONIC_API_KEY is not set on this worker', { retryable: false });
    return { client: client(sources.apiKey), rejected: async () => {} };
  }
  if (!sources.connections) throw new IngestError('ERR_NO_CREDENTIALS', 'ENCRYPTION_KEY is not set on this worker', { retryable: false });
  const store = sources.connections;
  const connection = await store.get(owner.id);
  if (!connection) throw new IngestError('ERR_NO_CREDENTIALS', `connection ${owner.id} no longer exists`, { retryable: false });
  if (connection.status === 'needs_reauth') {
    throw new IngestError('ERR_NEEDS_REAUTH', `connection ${owner.id} needs the user to authorise again`, { retryable: false });
  }
  const token = await unsealedToken(store, connection);
  const userId = connection.auphonicUser?.userId;
  if (!token || !userId)
    throw new IngestError('ERR_NO_CREDENTIALS', `connection ${owner.id} has not been authorised`, { retryable: false });
  return {
    client: client(token),
    rejected: (reason) => store.markNeedsReauth(userId, reason),
  };
}

/** No retry opens a token no configured key opens: a permanent failure, naming the settings to fix. */
async function unsealedToken(store: ConnectionStore, connection: Connection): Promise<string | null> {
  try {
    return await store.accessToken(connection);
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    throw new IngestError(
      'ERR_DECRYPT',
      `the stored token of connection ${connection.id} opens with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS: ` +
        'set the key it was sealed with as ENCRYPTION_KEY_PREVIOUS, or have the user connect again',
      { retryable: false },
    );
  }
}
