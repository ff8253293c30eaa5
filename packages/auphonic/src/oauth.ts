import got from 'got';
import { DEFAULT_USER_AGENT } from './client.ts';
import { AuphonicError, networkError } from './errors.ts';

export interface OAuthApp {
  baseUrl: URL;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** Auphonic's authorize page for the user's browser. */
export function authorizeUrl(app: Omit<OAuthApp, 'clientSecret'>, state: string): URL {
  const url = new URL('/oauth2/authorize/', app.baseUrl);
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('redirect_uri', app.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('state', state);
  return url;
}

/**
 * POST /oauth2/token/: the code for an access token (about ten years; no
 * refresh token). OAuth errors come as `{error, error_description}`.
 */
export async function exchangeCode(app: OAuthApp, code: string): Promise<{ accessToken: string }> {
  let res: { statusCode: number; body: string };
  try {
    res = await got.post(new URL('/oauth2/token/', app.baseUrl), {
      form: {
        client_id: app.clientId,
        client_secret: app.clientSecret,
        redirect_uri: app.redirectUri,
        grant_type: 'authorization_code',
        code,
      },
      headers: { 'user-agent': DEFAULT_USER_AGENT, accept: 'application/json' },
      throwHttpErrors: false,
      // The body carries client_secret: a 307/308 would send it to wherever Location says.
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { connect: 10_000, response: 30_000 },
    });
  } catch (err) {
    throw networkError('token exchange', err);
  }
  if (res.statusCode >= 300 && res.statusCode < 400) {
    throw new AuphonicError('ERR_AUPHONIC_REJECTED', `token exchange answered a redirect (HTTP ${res.statusCode}), not followed`, {
      retryable: false,
      statusCode: res.statusCode,
    });
  }
  let body: { access_token?: unknown; user_name?: unknown; error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `token exchange: answer is not JSON (HTTP ${res.statusCode})`, {
      retryable: res.statusCode >= 500,
    });
  }
  if (res.statusCode !== 200 || typeof body.access_token !== 'string' || body.access_token === '') {
    const reason =
      typeof body.error === 'string'
        ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`
        : `HTTP ${res.statusCode}`;
    throw new AuphonicError('ERR_AUPHONIC_REJECTED', `token exchange refused (${reason.slice(0, 200)})`, {
      retryable: res.statusCode >= 500,
      statusCode: res.statusCode,
    });
  }
  // Whose token it is comes from /api/user.json (its user_id), not from the token answer's user_name.
  return { accessToken: body.access_token };
}
