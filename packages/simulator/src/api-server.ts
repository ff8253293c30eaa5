import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Accounts, SimulatedUser } from './accounts.ts';
import type { Faults } from './faults.ts';
import { bearerToken, envelope, logRequest, type RequestLogEntry, readBody, sendJson } from './http-util.ts';
import type { Presigner } from './presign.ts';
import { minimalData, type ProductionStore, productionData } from './productions.ts';
import { statusInfo } from './statuses.ts';
import { BUCKETS, type Bucket } from './storage-server.ts';
import { type PresetStore, webhookRoutes } from './webhook-routes.ts';

export interface ApiDeps {
  productions: ProductionStore;
  presets: PresetStore;
  accounts: Accounts;
  presigner: Presigner;
  faults: Faults;
  log: RequestLogEntry[];
  baseUrl: () => URL;
  storageUrl: () => URL;
  linkTtlMs: number;
  /** Extra routes (the simulator's control routes); return true when handled. */
  extra?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

/** Auphonic's API and OAuth endpoints, as ../shared/auphonic/README.md describes them. */
export function createApiServer(deps: ApiDeps): Server {
  return createServer((req, res) => {
    logRequest(deps.log, 'api', req, res, () => 0);
    void route(req, res, deps).catch((err: Error) => {
      if (!res.headersSent) envelope(res, 500, null, { message: `simulator error: ${err.message}` });
      else res.destroy();
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<void> {
  const url = new URL(req.url ?? '/', deps.baseUrl());
  const path = url.pathname;
  if (deps.extra && (await deps.extra(req, res, url))) return;
  if (path === '/oauth2/authorize/' && req.method === 'GET') return authorize(res, url, deps);
  if (path === '/oauth2/token/' && req.method === 'POST') return token(req, res, deps);
  if (path === '/api/info/production_status.json') return envelope(res, 200, statusInfo());

  const user = deps.accounts.userByToken(bearerToken(req, url));
  if (!user) return envelope(res, 401, null, { message: 'Authentication credentials were not provided or are invalid.' });

  const production = /^\/api\/production\/([^/]+)\.json$/.exec(path);
  if (production && req.method === 'GET') return details(res, decodeURIComponent(production[1] ?? ''), user, deps);
  const file = /^\/api\/download\/audio-(result|upload)\/([^/]+)\/([^/]+)$/.exec(path);
  if (file && req.method === 'GET') {
    const bucket = file[1] === 'result' ? BUCKETS.results : BUCKETS.uploads;
    return download(res, bucket, decodeURIComponent(file[2] ?? ''), decodeURIComponent(file[3] ?? ''), user, deps);
  }
  if (path === '/api/productions.json' && req.method === 'GET') {
    const limit = Number(url.searchParams.get('limit') ?? 20);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const mine = deps.productions.list().filter((p) => p.owner === user.userId);
    const minimal = url.searchParams.get('minimal_data') === '1';
    return envelope(
      res,
      200,
      mine.slice(offset, offset + limit).map((p) => (minimal ? minimalData(p, deps.baseUrl()) : productionData(p, deps.baseUrl()))),
    );
  }
  if (path === '/api/user.json' && req.method === 'GET') {
    return envelope(res, 200, { user_id: user.userId, username: user.username, email: user.email, credits: 10.0 });
  }
  if (path === '/api/service/connect.json' && req.method === 'POST') {
    let body: { display_name?: unknown; webhook_url?: unknown; custom_data?: unknown };
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return envelope(res, 400, null, { message: 'Invalid JSON.' });
    }
    if (
      typeof body.display_name !== 'string' ||
      !body.display_name ||
      typeof body.webhook_url !== 'string' ||
      !/^https?:\/\//.test(body.webhook_url)
    ) {
      return sendJson(res, 400, {
        status_code: 400,
        error_code: 'form_error',
        error_message: 'Invalid service data.',
        form_errors: { display_name: ['required'], webhook_url: ['a valid URL is required'] },
        data: null,
      });
    }
    const service = deps.accounts.connectService(user.userId, {
      display_name: body.display_name,
      webhook_url: body.webhook_url,
      custom_data: body.custom_data ?? null,
    });
    const { userId: _owner, ...shown } = service;
    return envelope(res, 200, shown);
  }
  if (path === '/api/services.json' && req.method === 'GET') {
    return envelope(
      res,
      200,
      deps.accounts.services(user.userId).map(({ userId: _owner, ...shown }) => shown),
    );
  }
  if (await webhookRoutes(req, res, path, user, deps)) return;
  return envelope(res, 404, null, { message: 'Not found.' });
}

function details(res: ServerResponse, uuid: string, user: SimulatedUser, deps: ApiDeps) {
  const failure = deps.faults.take('details', ['status', 'envelope-error'], uuid);
  if (failure?.kind === 'status') {
    const headers: Record<string, string> =
      failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
    return envelope(res, failure.status, null, { message: 'Simulated failure.' }, headers);
  }
  if (failure?.kind === 'envelope-error') {
    // Auphonic answers some errors with HTTP 200 and the error only in the envelope.
    return sendJson(res, 200, {
      status_code: failure.statusCode,
      form_errors: {},
      error_code: null,
      error_message: failure.message,
      data: null,
    });
  }
  const record = deps.productions.get(uuid);
  if (!record || record.owner !== user.userId) return envelope(res, 404, null, { message: `Production ${uuid} not found.` });
  return envelope(res, 200, productionData(record, deps.baseUrl()));
}

/** A result file or an uploaded image: 302 to a presigned link on the storage origin, like Auphonic. */
function download(res: ServerResponse, bucket: Bucket, uuid: string, filename: string, user: SimulatedUser, deps: ApiDeps) {
  const failure = deps.faults.take('download', ['status', 'expired-link'], uuid, filename);
  if (failure?.kind === 'status') {
    const headers: Record<string, string> =
      failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
    return envelope(res, failure.status, null, { message: 'Simulated failure.' }, headers);
  }
  const record = deps.productions.get(uuid);
  const found = bucket === BUCKETS.results ? deps.productions.file(uuid, filename) : deps.productions.upload(uuid, filename);
  if (!record || record.owner !== user.userId || !found) {
    return envelope(res, 404, null, { message: 'File not found.' });
  }
  const path = `/${bucket}/${encodeURIComponent(uuid)}/${encodeURIComponent(filename)}`;
  // An expired link: signed long enough ago that its lifetime is over.
  const signedAt = failure?.kind === 'expired-link' ? Date.now() - deps.linkTtlMs - 60_000 : Date.now();
  const location = new URL(deps.presigner.sign(path, deps.linkTtlMs, signedAt), deps.storageUrl());
  res.writeHead(302, { location: location.toString(), 'content-length': 0 }).end();
}

function authorize(res: ServerResponse, url: URL, deps: ApiDeps) {
  const app = deps.accounts.app;
  const clientId = url.searchParams.get('client_id');
  const redirectUri = url.searchParams.get('redirect_uri') ?? '';
  if (!app || clientId !== app.clientId || !app.redirectUris.includes(redirectUri) || url.searchParams.get('response_type') !== 'code') {
    res.writeHead(400, { 'content-type': 'text/html' }).end('<h1>Invalid OAuth request</h1>');
    return;
  }
  const userId = deps.accounts.authorizingUser;
  const back = new URL(redirectUri);
  if (!userId) {
    back.searchParams.set('error', 'access_denied');
  } else {
    back.searchParams.set('code', deps.accounts.issueCode(userId, redirectUri));
  }
  const state = url.searchParams.get('state');
  if (state !== null && app.echoState !== false) back.searchParams.set('state', state);
  // The real page asks the user to log in and allow; the simulator's user always allows.
  res.writeHead(302, { location: back.toString(), 'content-length': 0 }).end();
}

async function token(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<void> {
  const form = new URLSearchParams(await readBody(req));
  const app = deps.accounts.app;
  const oauthError = (status: number, error: string, description: string) =>
    sendJson(res, status, { error, error_description: description });
  if (!app || form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret) {
    return oauthError(401, 'invalid_client', 'Client authentication failed.');
  }
  if (form.get('grant_type') !== 'authorization_code')
    return oauthError(400, 'unsupported_grant_type', 'Only authorization_code is supported.');
  const redeemed = deps.accounts.redeemCode(form.get('code') ?? '', form.get('redirect_uri') ?? '');
  if (typeof redeemed !== 'string') return oauthError(400, redeemed.error, redeemed.error_description);
  const user = deps.accounts.userByToken(redeemed);
  sendJson(res, 200, { access_token: redeemed, token_type: 'bearer', expires_in: 315360000, user_name: user?.username ?? '', scope: '' });
}
