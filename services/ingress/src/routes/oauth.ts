import { randomBytes } from 'node:crypto';
import { authorizeUrl } from '@auphonic-bridge/auphonic';
import type { Connection, ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import type { ReconcileQueue } from '@auphonic-bridge/queue';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ExternalServiceConfig } from '../config.ts';
import { completeConnection, redirectUriFor } from '../connect-flow.ts';
import { linkIsCurrent, readStartLink } from '../connect-links.ts';
import { HttpError } from '../errors.ts';
import { htmlPage } from '../html-page.ts';
import { HtmlPage } from '../schemas/common.ts';
import { CallbackQuery, StartQuery } from '../schemas/oauth.ts';

export interface OAuthOptions {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  sealer: Sealer;
  reconcileQueue: ReconcileQueue;
}

const COOKIE = 'auphonic_bridge_oauth';
// Signed values say what they are for: a cookie is never taken for a start link, nor the reverse.
const FLOW = 'flow.';
const FLOW_TTL_MS = 10 * 60_000;
// Longer than the calls of one completion may take (token, user, service, services list).
const COMPLETION_TTL_MS = 5 * 60_000;

const linkUsed = (c: Connection) =>
  c.status === 'connected'
    ? 'This link has already been used: the connection is connected. To connect again, ask for a new link.'
    : 'This link was replaced by a newer one. Use the newest link, or ask for a new one.';

/**
 * The browser side of connecting: /oauth/start binds the flow to this browser
 * with a signed, short-lived, HttpOnly cookie (the connection and the flow's
 * nonce; a connection keeps its newest five) and sends it to Auphonic;
 * /oauth/callback accepts the code only from that browser, once. `state` is sent and checked when Auphonic echoes it; the
 * cookie alone binds the flow when it does not. A callback that cannot be the
 * flow's own (a forged state, or no code and no state) changes nothing: it
 * neither ends the flow nor clears the cookie, so a link to it sent by a
 * stranger cannot cancel a connection under way.
 */
export async function oauthRoutes(instance: FastifyInstance, opts: OAuthOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { config, store, sealer } = opts;
  const deps = { config, store, reconcileQueue: opts.reconcileQueue };
  // The cookie's signature is the Sealer's: short-lived, for this purpose only, and valid across ENCRYPTION_KEY rotation.
  await app.register(cookie, {
    secret: {
      sign: (value: string) => sealer.sign(`${FLOW}${value}`, FLOW_TTL_MS),
      unsign: (signed: string) => {
        const value = sealer.verify(signed);
        return value?.startsWith(FLOW)
          ? { valid: true, renew: false, value: value.slice(FLOW.length) }
          : { valid: false, renew: false, value: null };
      },
    },
  });
  const flowCookie = {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: config.publicUrl.startsWith('https:'),
    // Under PUBLIC_URL's own path, should the bridge sit behind a path prefix.
    path: `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}/oauth`,
  } as const;

  // Fastify's own refusal of a query (a parameter given twice) as a page too: the app's JSON error, put
  // through these routes' page schema, reached the browser as "[object Object]". Anything else goes on to the app's handler.
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (!err.validation) throw err;
    return htmlPage(
      reply,
      400,
      'Link not valid',
      'This address is malformed (a parameter is given twice, or not as text). Start again from your link.',
    );
  });

  const pages = (described: Record<number, string>) =>
    Object.fromEntries(Object.entries(described).map(([status, description]) => [status, { ...HtmlPage, description }]));

  app.get(
    '/oauth/start',
    {
      // A HEAD (a link checker, an unfurler) starts no flow.
      exposeHeadRoute: false,
      schema: {
        summary: 'Browser: binds the flow to this browser and redirects to Auphonic',
        querystring: StartQuery,
        produces: ['text/html'],
        response: pages({ 302: 'to Auphonic', 400: 'link invalid or expired', 409: 'link already used, or replaced by a newer one' }),
      },
    },
    async (request, reply) => {
      const link = request.query.t ? readStartLink(sealer, request.query.t) : null;
      const connection = link ? await store.get(link.connectionId) : null;
      if (!link || !connection)
        return htmlPage(reply, 400, 'Link not valid', 'This connect link is invalid or has expired. Ask for a new one.');
      if (!linkIsCurrent(connection, link.link)) return htmlPage(reply, 409, 'Link already used', linkUsed(connection));
      const nonce = randomBytes(16).toString('base64url');
      await store.startOAuthFlow(nonce, link, FLOW_TTL_MS);
      const target = authorizeUrl(
        { baseUrl: config.auphonicBaseUrl, clientId: config.clientId, redirectUri: redirectUriFor(config) },
        nonce,
      );
      return reply
        .setCookie(COOKIE, `${link.connectionId}.${nonce}`, { ...flowCookie, maxAge: FLOW_TTL_MS / 1000 })
        .header('cache-control', 'no-store')
        .redirect(target.toString(), 302);
    },
  );

  app.get(
    '/oauth/callback',
    {
      schema: {
        summary: "Browser: Auphonic's redirect back with the code",
        querystring: CallbackQuery,
        produces: ['text/html'],
        response: pages({
          200: 'connected',
          302: 'to return_url',
          400: 'not from the browser that started it, forged, replayed or expired',
          409: 'link already used, or another Auphonic user than the connection has',
          502: 'Auphonic could not complete it',
        }),
      },
    },
    async (request, reply) => {
      const signed = request.cookies[COOKIE];
      const [connectionId, nonce] = (signed ? (request.unsignCookie(signed).value ?? '') : '').split('.');
      if (!connectionId || !nonce) {
        reply.clearCookie(COOKIE, { path: flowCookie.path });
        request.log.warn('oauth callback without a valid flow cookie');
        return htmlPage(reply, 400, 'Not connected', 'This browser did not start this connection, or it took too long. Start again.');
      }
      const { state, code, error } = request.query;
      const notAuthorised = () =>
        htmlPage(reply, 400, 'Not connected', `Auphonic did not authorise the connection (${String(error ?? 'no code')}).`);
      if (state !== undefined && state !== nonce) {
        request.log.warn('oauth callback with a state that does not match the flow cookie');
        return htmlPage(reply, 400, 'Not connected', 'This answer does not belong to the connection this browser started. Start again.');
      }
      // Without state, nothing says a refusal is the flow's own: it is shown, and the flow left as it was.
      if (state === undefined && (error || !code)) return notAuthorised();
      // Consumed before the code is used: a replay of the same callback finds nothing.
      const flow = await store.consumeOAuthFlow(connectionId, nonce, FLOW_TTL_MS);
      reply.clearCookie(COOKIE, { path: flowCookie.path });
      if (!flow || !(await store.get(flow.connectionId))) {
        return htmlPage(reply, 400, 'Not connected', 'This connection was already completed or has expired. Start again.');
      }
      if (error || !code) return notAuthorised();
      // Two windows may have started from one link: only one completes it.
      if (!(await store.claimCompletion(flow.connectionId, COMPLETION_TTL_MS))) {
        return htmlPage(
          reply,
          409,
          'Not connected',
          'This connection is being completed in another window. Look there, or start again in a moment.',
        );
      }
      let connection: Connection;
      try {
        // Read again under the claim: the other window may have completed it just now.
        const current = await store.get(flow.connectionId);
        if (!current) return htmlPage(reply, 400, 'Not connected', 'This connection no longer exists. Ask for a new link.');
        if (!linkIsCurrent(current, flow.link)) return htmlPage(reply, 409, 'Link already used', linkUsed(current));
        connection = await completeConnection(deps, current, code, request.log);
      } catch (err) {
        if (err instanceof HttpError && err.statusCode === 409) return htmlPage(reply, 409, 'Not connected', err.message);
        request.log.warn(
          { connection: flow.connectionId, code: (err as { code?: unknown }).code },
          `connecting failed: ${(err as Error).message}`,
        );
        return htmlPage(reply, 502, 'Not connected', 'Auphonic could not complete the connection. Please start again.');
      } finally {
        await store.releaseCompletion(flow.connectionId);
      }
      request.log.info(
        { connection: connection.id, user: connection.auphonicUser?.username },
        'connection authorised and service registered',
      );
      // One stored before return_url was checked on creation may not parse: then the page below.
      if (connection.returnUrl && URL.canParse(connection.returnUrl)) {
        const back = new URL(connection.returnUrl);
        back.searchParams.set('connection', connection.id);
        back.searchParams.set('status', 'connected');
        return reply.redirect(back.toString(), 302);
      }
      return htmlPage(
        reply,
        200,
        'Connected',
        // Naming the Auphonic account: without state, a stranger's code could have been brought here; the user sees whose it was.
        `Your Auphonic account "${connection.auphonicUser?.username ?? ''}" is connected as "${connection.displayName}". You can close this page.`,
      );
    },
  );
}
