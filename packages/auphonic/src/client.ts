import { once } from 'node:events';
import type { Readable } from 'node:stream';
import got, { type Got, RequestError, type Response } from 'got';
import { AuphonicError, errorForStatus } from './errors.ts';
import type { Envelope, Production } from './types.ts';

export interface AuphonicClientOptions {
  /** Base of the API and OAuth URLs, e.g. https://auphonic.com */
  baseUrl: URL;
  /** API key or OAuth access token; sent only to baseUrl's origin. */
  token: string;
  userAgent?: string;
  /** Milliseconds; no whole-request limit, so a slow healthy download is never cut. */
  timeouts?: { connect?: number; response?: number; socket?: number };
  onResponse?: ResponseObserver;
}

/** A production as the list answers it (minimal_data): which fields it keeps is undocumented. */
export interface ProductionSummary {
  uuid: string;
  status: number;
  change_time?: string;
  webhook?: string | null;
  service?: string | null;
  [key: string]: unknown;
}

export interface AuphonicUser {
  userId: string;
  username: string;
  email: string | null;
}

export interface AuphonicService {
  uuid: string;
  displayName: string;
  webhookUrl: string | null;
}

/** Called after every API answer: for metrics of latency and status codes. */
export type ResponseObserver = (r: { operation: string; statusCode: number; ms: number }) => void;

export interface DownloadResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Where the body really came from (after redirects). */
  url: URL;
  body: Readable;
}

export const DEFAULT_USER_AGENT = 'auphonic-bridge/0.1 (+https://github.com/auphonic-bridge)';

export class AuphonicClient {
  readonly baseUrl: URL;
  readonly #http: Got;
  readonly #token: string;
  readonly #onResponse: ResponseObserver | undefined;

  constructor(opts: AuphonicClientOptions) {
    this.baseUrl = opts.baseUrl;
    this.#token = opts.token;
    this.#onResponse = opts.onResponse;
    this.#http = got.extend({
      headers: { 'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT },
      // One retry layer only: the job queue's, with backoff and jitter.
      retry: { limit: 0 },
      throwHttpErrors: false,
      timeout: {
        connect: opts.timeouts?.connect ?? 10_000,
        response: opts.timeouts?.response ?? 30_000,
        socket: opts.timeouts?.socket ?? 60_000,
      },
    });
  }

  /** GET /api/production/{uuid}.json */
  async getProduction(uuid: string, opts: { signal?: AbortSignal } = {}): Promise<Production> {
    const what = `production ${uuid}`;
    const data = await this.#call<Production>('GET', `/api/production/${encodeURIComponent(uuid)}.json`, what, opts);
    if (!data || typeof data !== 'object' || data.uuid !== uuid || typeof data.status !== 'number' || !Array.isArray(data.output_files)) {
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `${what}: answer does not describe the production`, { retryable: false });
    }
    return data;
  }

  /** GET /api/productions.json, newest first, without the bulky parts (minimal_data). */
  async listProductions(opts: { limit: number; signal?: AbortSignal }): Promise<ProductionSummary[]> {
    const data = await this.#call<unknown[]>(
      'GET',
      `/api/productions.json?limit=${opts.limit}&offset=0&minimal_data=1`,
      'productions list',
      {
        signal: opts.signal,
      },
    );
    if (!Array.isArray(data))
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'productions list: answer is not a list', { retryable: false });
    return data.filter((p): p is ProductionSummary => isObject(p) && typeof p.uuid === 'string' && typeof p.status === 'number');
  }

  /** GET /api/user.json: whose token this is. */
  async getUser(): Promise<AuphonicUser> {
    const data = await this.#call<Record<string, unknown>>('GET', '/api/user.json', 'user');
    const userId = data?.user_id;
    if (!data || (typeof userId !== 'string' && typeof userId !== 'number') || typeof data.username !== 'string') {
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'user: answer does not describe a user', { retryable: false });
    }
    return { userId: String(userId), username: data.username, email: typeof data.email === 'string' ? data.email : null };
  }

  /** GET /api/services.json: the user's External Services. */
  async listServices(): Promise<AuphonicService[]> {
    const data = await this.#call<unknown[]>('GET', '/api/services.json', 'services list');
    if (!Array.isArray(data))
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'services list: answer is not a list', { retryable: false });
    return data
      .filter((s): s is Record<string, unknown> => isObject(s) && typeof s.uuid === 'string')
      .map((s) => ({
        uuid: s.uuid as string,
        displayName: typeof s.display_name === 'string' ? s.display_name : '',
        webhookUrl: typeof s.webhook_url === 'string' ? s.webhook_url : null,
      }));
  }

  /**
   * POST /api/service/connect.json: registers (or, for the same user and
   * display_name, updates) this bridge as the user's External Service.
   */
  async connectService(service: { display_name: string; webhook_url: string; custom_data: unknown }): Promise<{ uuid: string | null }> {
    const data = await this.#call<Record<string, unknown>>('POST', '/api/service/connect.json', 'service connect', { json: service });
    // The answer's shape is undocumented: keep the uuid when there is one.
    const uuid = data && typeof data === 'object' && typeof data.uuid === 'string' ? data.uuid : null;
    return { uuid };
  }

  /** One API call, checked in both the HTTP status and the envelope. */
  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    opts: { signal?: AbortSignal; json?: unknown } = {},
  ): Promise<T | null> {
    let res: Response<string>;
    try {
      res = await this.#http(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' },
        signal: opts.signal,
        ...(opts.json === undefined ? {} : { json: opts.json }),
      });
    } catch (err) {
      throw networkError(what, err);
    }
    this.#onResponse?.({ operation: what.split(' ')[0] ?? what, statusCode: res.statusCode, ms: res.timings?.phases.total ?? 0 });
    const httpError = errorForStatus(res.statusCode, what, headerValue(res.headers['retry-after']));
    let envelope: Envelope<T> | undefined;
    try {
      envelope = JSON.parse(res.body) as Envelope<T>;
    } catch {
      // A proxy's HTML page or a cut answer: another attempt may fare better.
      throw httpError ?? new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `${what}: answer is not JSON`, { retryable: true });
    }
    if (httpError) throw withApiMessage(httpError, envelope);
    // Some errors arrive with HTTP 200 and the error only in the envelope.
    const envelopeError = typeof envelope?.status_code === 'number' ? errorForStatus(envelope.status_code, what) : undefined;
    if (envelopeError) throw withApiMessage(envelopeError, envelope);
    return envelope?.data ?? null;
  }

  /**
   * Resolves a download_url as given (absolute, or relative to baseUrl) and
   * refuses any that is not on Auphonic's own origin: the token goes there.
   */
  resolveDownloadUrl(downloadUrl: string): URL {
    let url: URL;
    try {
      url = new URL(downloadUrl, this.baseUrl);
    } catch {
      throw new AuphonicError('ERR_DOWNLOAD_FOREIGN_HOST', 'download_url is not a valid URL', { retryable: false });
    }
    if (url.origin !== this.baseUrl.origin) {
      throw new AuphonicError('ERR_DOWNLOAD_FOREIGN_HOST', `download_url is not on ${this.baseUrl.origin} (got ${url.origin})`, {
        retryable: false,
      });
    }
    return url;
  }

  /**
   * Starts a download and resolves once the final response's headers are in.
   * Redirects are followed; got drops the Authorization header when a redirect
   * leaves Auphonic's origin, which object storage requires.
   */
  async openDownload(url: URL, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<DownloadResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (opts.offset) headers.range = `bytes=${opts.offset}-`;
    const stream = this.#http.stream(url, { headers, decompress: false, signal: opts.signal });
    try {
      const [response] = (await once(stream, 'response')) as [{ statusCode: number; headers: DownloadResponse['headers']; url: string }];
      return { statusCode: response.statusCode, headers: response.headers, url: new URL(response.url), body: stream };
    } catch (err) {
      stream.destroy();
      throw networkError(`download ${url.pathname}`, err);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function withApiMessage(err: AuphonicError, envelope: Envelope<unknown> | undefined): AuphonicError {
  const detail = typeof envelope?.error_message === 'string' && envelope.error_message ? `: ${envelope.error_message.slice(0, 200)}` : '';
  if (!detail) return err;
  return new AuphonicError(err.code as ConstructorParameters<typeof AuphonicError>[0], `${err.message}${detail}`, {
    retryable: err.retryable,
    statusCode: err.statusCode,
    retryAfterMs: err.retryAfterMs,
  });
}

/** Timeouts, resets, refused connections: all worth another attempt, except an abort. */
export function networkError(what: string, err: unknown): Error {
  if (err instanceof AuphonicError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const code = err instanceof RequestError ? err.code : (err as NodeJS.ErrnoException)?.code;
  // Only the code: got's own messages can carry the full URL.
  return new AuphonicError('ERR_AUPHONIC_NETWORK', `${what}: ${code ?? 'network error'}`, { retryable: true, cause: undefined });
}
