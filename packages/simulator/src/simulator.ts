import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Accounts, type OAuthAppConfig, type SimulatedService, type SimulatedUser } from './accounts.ts';
import { createApiServer } from './api-server.ts';
import { controlRoutes } from './control-routes.ts';
import { type Fault, Faults } from './faults.ts';
import type { RequestLogEntry } from './http-util.ts';
import { Presigner } from './presign.ts';
import { type AddProductionInput, type Production, type ProductionPatch, ProductionStore, productionData } from './productions.ts';
import { STATUS_DONE, statusString } from './statuses.ts';
import { BUCKETS, type Bucket, createStorageServer } from './storage-server.ts';
import { PresetStore, type SimulatedPreset } from './webhook-routes.ts';
import { sendServiceWebhook, sendWebhook, type WebhookDelivery } from './webhook-sender.ts';

export interface SimulatorOptions {
  /** The API key of the simulator's own account (the production-webhook user). */
  apiKey: string;
  host?: string;
  apiPort?: number;
  storagePort?: number;
  /** Lifetime of presigned download links. */
  linkTtlMs?: number;
  /** The registered OAuth app, for the External Service flow. */
  oauth?: OAuthAppConfig;
  /** How clients reach the API and the storage, when not as host:port (e.g. http://simulator:4010 in compose). */
  publicUrl?: string;
  publicStorageUrl?: string;
}

/**
 * Auphonic, as far as auphonic-bridge uses it, on loopback: the API (details,
 * downloads, OAuth, service connect), a separate object-storage origin the
 * downloads redirect to, faults on demand, and webhooks sent Auphonic's way.
 */
export class AuphonicSimulator {
  readonly requests: RequestLogEntry[] = [];
  readonly accounts = new Accounts();
  /** The user the API key belongs to. */
  readonly account: SimulatedUser;
  /** Presets and their webhooks (`presets.webhookEndpoint = false`: an API without /api/preset/{uuid}/webhook.json). */
  readonly presets = new PresetStore();
  readonly #productions = new ProductionStore();
  readonly #faults = new Faults();
  readonly #api: Server;
  readonly #storage: Server;
  readonly #sockets = new Set<Socket>();
  #baseUrl = new URL('http://127.0.0.1/');
  #storageUrl = new URL('http://127.0.0.1/');

  private constructor(opts: SimulatorOptions) {
    this.account = this.accounts.addUser({ username: 'simulated-account', apiKey: opts.apiKey });
    this.accounts.app = opts.oauth;
    const presigner = new Presigner();
    this.#api = createApiServer({
      productions: this.#productions,
      presets: this.presets,
      accounts: this.accounts,
      presigner,
      faults: this.#faults,
      log: this.requests,
      baseUrl: () => this.#baseUrl,
      storageUrl: () => this.#storageUrl,
      linkTtlMs: opts.linkTtlMs ?? 60_000,
      extra: controlRoutes(() => this, opts.apiKey),
    });
    this.#storage = createStorageServer({ productions: this.#productions, presigner, faults: this.#faults, log: this.requests });
    for (const server of [this.#api, this.#storage]) {
      server.on('connection', (socket: Socket) => {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
      });
    }
  }

  static async start(opts: SimulatorOptions): Promise<AuphonicSimulator> {
    const sim = new AuphonicSimulator(opts);
    const host = opts.host ?? '127.0.0.1';
    sim.#api.listen(opts.apiPort ?? 0, host);
    sim.#storage.listen(opts.storagePort ?? 0, host);
    await Promise.all([once(sim.#api, 'listening'), once(sim.#storage, 'listening')]);
    const urlOf = (server: Server) =>
      new URL(`http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as { port: number }).port}/`);
    sim.#baseUrl = opts.publicUrl ? new URL(opts.publicUrl) : urlOf(sim.#api);
    sim.#storageUrl = opts.publicStorageUrl ? new URL(opts.publicStorageUrl) : urlOf(sim.#storage);
    return sim;
  }

  /** API origin, e.g. http://127.0.0.1:41234 (use `.origin` for AUPHONIC_BASE_URL). */
  get baseUrl(): URL {
    return this.#baseUrl;
  }

  /** The storage origin downloads redirect to: another port, so another origin. */
  get storageUrl(): URL {
    return this.#storageUrl;
  }

  async addProduction(input: AddProductionInput = {}): Promise<Production> {
    const record = await this.#productions.add({ ...input, owner: input.owner ?? this.account.userId });
    return productionData(record, this.#baseUrl);
  }

  /** A preset of the API key's user (or of `owner`), with these webhooks. */
  addPreset(input: { name?: string; webhooks?: string[]; owner?: string } = {}): SimulatedPreset {
    return this.presets.add({ ...input, owner: input.owner ?? this.account.userId });
  }

  /** A re-run: replaces what the patch names and bumps change_time. */
  async updateProduction(uuid: string, patch: ProductionPatch): Promise<Production> {
    return productionData(await this.#productions.update(uuid, patch), this.#baseUrl);
  }

  production(uuid: string): Production {
    return productionData(this.#productions.require(uuid), this.#baseUrl);
  }

  fileBytesServed(uuid: string, filename: string): number {
    return this.#storageGets(uuid, filename).reduce((sum, r) => sum + r.bytesSent, 0);
  }

  downloadsStarted(uuid: string, filename: string): number {
    return this.#storageGets(uuid, filename).filter((r) => r.status === 200 || r.status === 206).length;
  }

  /** Downloads of an image uploaded with the production (its cover, a chapter's) that storage began to serve. */
  imageDownloadsStarted(uuid: string, filename: string): number {
    return this.#storageGets(uuid, filename, BUCKETS.uploads).filter((r) => r.status === 200 || r.status === 206).length;
  }

  inject(fault: Fault): void {
    this.#faults.inject(fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** A user of the External Service flow; `authorizing` makes them the one who allows on the authorize page. */
  addUser(input: { username: string; authorizing?: boolean }): SimulatedUser {
    const user = this.accounts.addUser(input);
    if (input.authorizing) this.accounts.authorizingUser = user.userId;
    return user;
  }

  services(userId?: string): SimulatedService[] {
    return this.accounts.services(userId);
  }

  /**
   * The production finishes (status, default Done): Auphonic calls its webhook,
   * and the External Service it selected, if any, with a signed JWT.
   */
  async completeProduction(uuid: string, opts: { status?: number; timeoutMs?: number } = {}): Promise<WebhookDelivery> {
    const record = this.#productions.require(uuid);
    record.status = opts.status ?? STATUS_DONE;
    this.#productions.touch(record);
    const delivery: WebhookDelivery = { ok: true, attempts: [] };
    const merge = (d: WebhookDelivery) => {
      delivery.ok &&= d.ok;
      delivery.attempts.push(...d.attempts);
    };
    if (record.webhook) {
      merge(
        await sendWebhook(
          record.webhook,
          { uuid, status: record.status, status_string: statusString(record.status) },
          { timeoutMs: opts.timeoutMs, retryDelayMs: 200 },
        ),
      );
    }
    const service = record.service ? this.accounts.service(record.service) : undefined;
    if (service && this.accounts.app) {
      merge(
        await sendServiceWebhook(service.webhook_url, { uuid, custom_data: service.custom_data }, this.accounts.app.clientSecret, {
          timeoutMs: opts.timeoutMs,
          retryDelayMs: 200,
        }),
      );
    }
    return delivery;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([new Promise((r) => this.#api.close(r)), new Promise((r) => this.#storage.close(r))]);
  }

  #storageGets(uuid: string, filename: string, bucket: Bucket = BUCKETS.results): RequestLogEntry[] {
    const path = `/${bucket}/${uuid}/${filename}`;
    return this.requests.filter((r) => r.origin === 'storage' && r.method === 'GET' && r.path === path);
  }
}
