import { randomBytes } from 'node:crypto';
import { authorizeUrl } from '@auphonic-bridge/auphonic';
import type { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ExternalServiceConfig } from '../config.ts';
import { completeConnection, redirectUriFor } from '../connect-flow.ts';

export interface OAuthOptions {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  sealer: Sealer;
}

const COOKIE = 'auphonic_bridge_oauth';
const FLOW_TTL_MS = 10 * 60_000;

/**
 * The browser side of connecting: /oauth/start binds the flow to this browser
 * with a signed, short-lived, HttpOnly cookie and sends it to Auphonic;
 * /oauth/callback accepts the code only from that browser, once. `state` is
 * sent and checked when Auphonic echoes it; the cookie alone binds the flow
 * when it does not.
 */
export async function oauthRoutes(app: FastifyInstance, opts: OAuthOptions): Promise<void> {
  const { config, store, sealer } = opts;
  const secure = config.publicUrl.startsWith('https:');
  // Under PUBLIC_URL's own path, should the bridge sit behind a path prefix.
  const path = `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}/oauth`;
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${COOKIE}=${value}; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
  const page = (reply: FastifyReply, status: number, title: string, text: string) =>
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>\n`,
      );

  app.get<{ Querystring: { t?: string } }>('/oauth/start', async (request, reply) => {
    const connectionId = request.query.t ? sealer.verify(request.query.t) : null;
    const connection = connectionId ? await store.get(connectionId) : null;
    if (!connection) return page(reply, 400, 'Link not valid', 'This connect link is invalid or has expired. Ask for a new one.');
    const nonce = randomBytes(16).toString('base64url');
    await store.rememberOAuthState(nonce, connection.id, FLOW_TTL_MS);
    const target = authorizeUrl({ baseUrl: config.auphonicBaseUrl, clientId: config.clientId, redirectUri: redirectUriFor(config) }, nonce);
    return reply
      .header('set-cookie', cookie(sealer.sign(nonce, FLOW_TTL_MS), FLOW_TTL_MS / 1000))
      .header('cache-control', 'no-store')
      .redirect(target.toString(), 302);
  });

  app.get<{ Querystring: { code?: string; state?: string; error?: string } }>('/oauth/callback', async (request, reply) => {
    reply.header('set-cookie', cookie('', 0));
    const signed = readCookie(request.headers.cookie, COOKIE);
    const nonce = signed ? sealer.verify(signed) : null;
    if (!nonce) {
      request.log.warn('oauth callback without a valid flow cookie');
      return page(reply, 400, 'Not connected', 'This browser did not start this connection, or it took too long. Start again.');
    }
    if (request.query.state !== undefined && request.query.state !== nonce) {
      request.log.warn('oauth callback with a state that does not match the flow cookie');
      return page(reply, 400, 'Not connected', 'This answer does not belong to the connection this browser started. Start again.');
    }
    // Consumed before the code is used: a replay of the same callback finds nothing.
    const connectionId = await store.consumeOAuthState(nonce);
    const pending = connectionId ? await store.get(connectionId) : null;
    if (!pending) return page(reply, 400, 'Not connected', 'This connection was already completed or has expired. Start again.');
    if (request.query.error || !request.query.code) {
      return page(reply, 400, 'Not connected', `Auphonic did not authorise the connection (${String(request.query.error ?? 'no code')}).`);
    }
    let connection: Awaited<ReturnType<typeof completeConnection>>;
    try {
      connection = await completeConnection(config, store, pending, request.query.code);
    } catch (err) {
      request.log.warn({ connection: pending.id, code: (err as { code?: unknown }).code }, `connecting failed: ${(err as Error).message}`);
      return page(reply, 502, 'Not connected', 'Auphonic could not complete the connection. Please start again.');
    }
    request.log.info(
      { connection: connection.id, user: connection.auphonicUser?.username },
      'connection authorised and service registered',
    );
    if (connection.returnUrl) {
      const back = new URL(connection.returnUrl);
      back.searchParams.set('connection', connection.id);
      back.searchParams.set('status', 'connected');
      return reply.redirect(back.toString(), 302);
    }
    return page(reply, 200, 'Connected', `Your Auphonic account is connected as "${connection.displayName}". You can close this page.`);
  });
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of header?.split(';') ?? []) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
