import { lookup as dnsLookup } from 'node:dns';
import { once } from 'node:events';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { guardedLookup, isForbiddenAddress, isPrivateHost } from '@auphonic-bridge/runtime';
import got, { type Got, type NormalizedOptions, type Response } from 'got';
import { AuphonicError, errorForStatus, networkError } from './errors.ts';
import { headerValue } from './headers.ts';
import { DEFAULT_QUICK_RETRIES, type QuickRetryPolicy, withQuickRetries } from './retry.ts';
import type { Envelope, Production } from './types.ts';
import { isMissingEndpoint, webhookList, webhooksOfAnswer } from './webhook-list.ts';

export interface AuphonicClientOptions {
  /** Base of the API and OAuth URLs, e.g. https://auphonic.com */
  baseUrl: URL;
  /** API key or OAuth access token; sent only to baseUrl's origin. */
  token: string;
  userAgent?: string;
  /** Milliseconds; no whole-request limit, so a slow healthy download is never cut. */
  timeouts?: { connect?: number; response?: number; socket?: number };
  /** Quick retries of idempotent requests within one call. */
  retries?: QuickRetryPolicy;
  onResponse?: ResponseObserver;
  /**
   * Whether a download's redirect may lead off Auphonic's origin to a loopback, private or
   * link-local address (DOWNLOAD_ALLOW_PRIVATE: object storage reached through a private
   * endpoint). Default: only when Auphonic itself is at such an address (a simulator, a
   * stand-in on the same network), by its literal or what its name resolves to.
   */
  privateRedirects?: boolean;
  /** dns.lookup unless given (tests: DNS cannot be reached from the test machines). */
  lookup?: typeof dnsLookup;
}

/** A production as the list answers it (minimal_data): which fields it keeps is undocumented. */
export interface ProductionSummary {
  uuid: string;
  status?: number;
  change_time?: string;
  creation_time?: string;
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

/** A preset's webhooks: a list (webhook.json) takes another one beside them; the field form holds one. */
export interface PresetWebhooks {
  webhooks: string[];
  form: 'list' | 'field';
}

/** Called after every API answer: for metrics of latency and status codes. */
export type ResponseObserver = (r: { operation: string; statusCode: number; ms: number }) => void;

/** An answer to a download request, its body not read yet. */
export interface OpenedDownload {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Where the body really came from (after redirects). */
  url: URL;
  body: Readable;
}

export const DEFAULT_USER_AGENT = 'auphonic-bridge/0.1 (+https://github.com/auphonic-bridge)';

export class AuphonicClient {
  readonly baseUrl: URL;
  readonly retries: QuickRetryPolicy;
  readonly #http: Got;
  readonly #token: string;
  readonly #onResponse: ResponseObserver | undefined;
  readonly #privateRedirects: boolean | undefined;
  readonly #lookup: typeof dnsLookup;
  /** null: the lookup failed. */
  #basePrivate: Promise<boolean | null> | undefined;

  constructor(opts: AuphonicClientOptions) {
    this.baseUrl = opts.baseUrl;
    this.#privateRedirects = opts.privateRedirects;
    this.#lookup = opts.lookup ?? dnsLookup;
    this.#token = opts.token;
    this.#onResponse = opts.onResponse;
    this.retries = opts.retries ?? DEFAULT_QUICK_RETRIES;
    this.#http = got.extend({
      ...(opts.lookup ? { dnsLookup: opts.lookup as never } : {}),
      headers: { 'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT },
      // Retries are ours (withQuickRetries, the download loop, the job backoff): got's restart streams at byte 0.
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
    const data = await this.#get<Production>(`/api/production/${encodeURIComponent(uuid)}.json`, what, opts.signal);
    if (!data || typeof data !== 'object' || data.uuid !== uuid || typeof data.status !== 'number' || !Array.isArray(data.output_files)) {
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `${what}: answer does not describe the production`, { retryable: false });
    }
    return data;
  }

  /** GET /api/productions.json: one page, without the bulky parts (minimal_data). Clients see it newest first. */
  async listProductions(opts: { limit: number; offset: number; signal?: AbortSignal }): Promise<ProductionSummary[]> {
    const path = `/api/productions.json?limit=${opts.limit}&offset=${opts.offset}&minimal_data=1`;
    const data = await this.#get<unknown[]>(path, 'productions list', opts.signal);
    if (!Array.isArray(data))
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'productions list: answer is not a list', { retryable: false });
    return data.filter((p): p is ProductionSummary => isObject(p) && typeof p.uuid === 'string');
  }

  /** GET /api/user.json: whose token this is. */
  async getUser(): Promise<AuphonicUser> {
    const data = await this.#get<Record<string, unknown>>('/api/user.json', 'user');
    const userId = data?.user_id;
    if (!data || (typeof userId !== 'string' && typeof userId !== 'number') || typeof data.username !== 'string') {
      throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'user: answer does not describe a user', { retryable: false });
    }
    return { userId: String(userId), username: data.username, email: typeof data.email === 'string' ? data.email : null };
  }

  /** GET /api/services.json: the user's External Services. */
  async listServices(): Promise<AuphonicService[]> {
    const data = await this.#get<unknown[]>('/api/services.json', 'services list');
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

  /** The webhook URLs of a production (its `webhook` field: none or one). */
  async productionWebhooks(uuid: string): Promise<string[]> {
    return webhookList((await this.getProduction(uuid)).webhook);
  }

  /** POST /api/production/{uuid}.json `{webhook}`, as the webhooks guide describes; "" removes it. */
  async setProductionWebhook(uuid: string, webhook: string): Promise<void> {
    await this.#call('POST', `/api/production/${encodeURIComponent(uuid)}.json`, `production ${uuid}`, { json: { webhook } });
  }

  /**
   * A preset's webhook URLs, and in which form it keeps them. Auphonic's own tooling reads
   * GET /api/preset/{uuid}/webhook.json (a list); where the API answers that it has no such
   * thing, the preset's own `webhook` field, which holds one (setting it replaces that one).
   */
  async presetWebhooks(uuid: string): Promise<PresetWebhooks> {
    const { list, field } = presetPaths(uuid);
    return this.#eitherPresetForm<PresetWebhooks>(
      async () => ({
        webhooks: webhooksOfAnswer(await withQuickRetries(() => this.#answer('GET', list, `preset ${uuid} webhooks`), this.retries)),
        form: 'list',
      }),
      async () => ({ webhooks: webhookList((await this.#get<{ webhook?: unknown }>(field, `preset ${uuid}`))?.webhook), form: 'field' }),
    );
  }

  /**
   * Adds a webhook to a preset: POST /api/preset/{uuid}/webhook.json (another integration's
   * webhook stays), else the preset's `webhook` field (POST /api/preset/{uuid}.json), which holds one.
   */
  async addPresetWebhook(uuid: string, url: string): Promise<void> {
    const { list, field } = presetPaths(uuid);
    await this.#eitherPresetForm<unknown>(
      () => this.#answer('POST', list, `preset ${uuid} webhooks`, { json: { webhook: url } }),
      () => this.#call('POST', field, `preset ${uuid}`, { json: { webhook: url } }),
    );
  }

  /** Removes one webhook of a preset: DELETE …/webhook.json, else the field emptied ("") if it holds this URL. */
  async removePresetWebhook(uuid: string, url: string): Promise<void> {
    const { list, field } = presetPaths(uuid);
    await this.#eitherPresetForm<unknown>(
      () => this.#answer('DELETE', list, `preset ${uuid} webhooks`, { json: { webhook: url } }),
      async () => {
        const current = webhookList((await this.#get<{ webhook?: unknown }>(field, `preset ${uuid}`))?.webhook);
        if (current.includes(url)) await this.#call('POST', field, `preset ${uuid}`, { json: { webhook: '' } });
      },
    );
  }

  /** The webhook.json form first; the field form where the API has no webhook.json (which form Auphonic runs is unconfirmed). */
  async #eitherPresetForm<T>(list: () => Promise<T>, field: () => Promise<T>): Promise<T> {
    try {
      return await list();
    } catch (err) {
      if (!isMissingEndpoint(err)) throw err;
      return field();
    }
  }

  /** A GET is idempotent: a flaky moment is ridden out with quick retries. */
  #get<T>(path: string, what: string, signal?: AbortSignal): Promise<T | null> {
    return withQuickRetries(() => this.#call<T>('GET', path, what, { signal }), this.retries, { signal });
  }

  async #call<T>(method: Method, path: string, what: string, opts: { signal?: AbortSignal; json?: unknown } = {}): Promise<T | null> {
    return (await this.#answer<T>(method, path, what, opts))?.data ?? null;
  }

  /** One API call, checked in both the HTTP status and the envelope; the whole answer. */
  async #answer<T>(
    method: Method,
    path: string,
    what: string,
    opts: { signal?: AbortSignal; json?: unknown } = {},
  ): Promise<Envelope<T> | undefined> {
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
    const httpError = errorForStatus(res.statusCode, what, { from: 'api', retryAfter: headerValue(res.headers['retry-after']) });
    let envelope: Envelope<T> | undefined;
    try {
      envelope = JSON.parse(res.body) as Envelope<T>;
    } catch {
      // A proxy's HTML page or a cut answer: another attempt may fare better.
      throw httpError ?? new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `${what}: answer is not JSON`, { retryable: true });
    }
    if (httpError) throw withApiMessage(httpError, envelope);
    // Some errors arrive with HTTP 200 and the error only in the envelope.
    const envelopeError =
      typeof envelope?.status_code === 'number' ? errorForStatus(envelope.status_code, what, { from: 'api' }) : undefined;
    if (envelopeError) throw withApiMessage(envelopeError, envelope);
    return envelope;
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
  async openDownload(url: URL, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<OpenedDownload> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (opts.offset) headers.range = `bytes=${opts.offset}-`;
    const stream = this.#http.stream(url, {
      headers,
      decompress: false,
      signal: opts.signal,
      maxRedirects: 5,
      hooks: { beforeRedirect: [(next: NormalizedOptions) => this.#checkRedirect(next)] },
    });
    // Listening from the first moment: an error between the headers and the first read (a reset while the
    // caller awaits something else) stays on the stream for its reader instead of crashing the process.
    stream.on('error', () => {});
    try {
      const [response] = (await once(stream, 'response')) as [{ statusCode: number; headers: OpenedDownload['headers']; url: string }];
      return { statusCode: response.statusCode, headers: response.headers, url: new URL(response.url), body: stream };
    } catch (err) {
      stream.destroy();
      const code = (err as { code?: unknown }).code;
      const setting = ' (DOWNLOAD_ALLOW_PRIVATE=true allows it)';
      // A literal address is what Auphonic said: for good. A name's answer may change (a bad DNS answer): tried again.
      if (code === 'ERR_DOWNLOAD_FOREIGN_HOST' || code === 'ERR_OUTBOUND_URL') {
        throw new AuphonicError('ERR_DOWNLOAD_FOREIGN_HOST', `download ${url.pathname}: ${(err as Error).message}${setting}`, {
          retryable: code === 'ERR_OUTBOUND_URL',
        });
      }
      throw networkError(`download ${url.pathname}`, err);
    }
  }

  /**
   * A download's redirect off Auphonic's origin (to object storage) may not lead into the
   * worker's own network: not to a loopback, private or link-local address, by literal or by
   * what its name resolves to when connecting, nor from https to http. What Auphonic lists is
   * stored and published, so a redirect there would store whatever an internal endpoint says.
   */
  async #checkRedirect(next: NormalizedOptions): Promise<void> {
    const target = next.url;
    if (!target || target.origin === this.baseUrl.origin) return;
    if (this.#privateRedirects ?? (await this.#auphonicIsPrivate())) return;
    const refuse = (why: string) => {
      throw Object.assign(new Error(`a redirect ${why}`), { code: 'ERR_DOWNLOAD_FOREIGN_HOST' });
    };
    if (this.baseUrl.protocol === 'https:' && target.protocol !== 'https:') refuse('leaves https');
    if (isPrivateHost(target.hostname)) refuse('leads to a loopback, private or link-local address');
    next.dnsLookup = guardedLookup({ allowPrivate: false, resolve: this.#lookup }) as never;
  }

  /** Whether Auphonic itself is at a loopback, private or link-local address (looked up once it has been answered). */
  async #auphonicIsPrivate(): Promise<boolean> {
    const host = this.baseUrl.hostname.replace(/^\[|\]$/g, '');
    if (isPrivateHost(host)) return true;
    if (isIP(host)) return false;
    this.#basePrivate ??= new Promise((resolve) =>
      this.#lookup(host, { all: true }, (err, addresses) =>
        resolve(err ? null : addresses.length > 0 && addresses.every((a) => isForbiddenAddress(a.address))),
      ),
    );
    const answer = await this.#basePrivate;
    // A failed lookup is not remembered (taken for public this once): the next redirect asks again.
    if (answer === null) this.#basePrivate = undefined;
    return answer === true;
  }
}

type Method = 'GET' | 'POST' | 'DELETE';

const presetPaths = (uuid: string) => ({
  list: `/api/preset/${encodeURIComponent(uuid)}/webhook.json`,
  field: `/api/preset/${encodeURIComponent(uuid)}.json`,
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function withApiMessage(err: AuphonicError, envelope: Envelope<unknown> | undefined): AuphonicError {
  const message = envelope?.error_message;
  return typeof message === 'string' && message ? err.withDetail(message.slice(0, 200)) : err;
}
