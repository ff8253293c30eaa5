import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Sealer } from './encryption.ts';

export type ConnectionStatus = 'pending' | 'connected' | 'needs_reauth';

/** One Auphonic user connected under one display_name: one External Service, one webhook URL. */
export interface Connection {
  id: string;
  displayName: string;
  customData: unknown;
  returnUrl: string | null;
  status: ConnectionStatus;
  /** Auphonic's user, once connected; the OAuth token is stored per user, sealed. */
  auphonicUser: { userId: string; username: string } | null;
  /** The service Auphonic registered: from its connect answer, else looked up in the user's services. */
  serviceUuid: string | null;
  /**
   * The one authorize link that may (re)connect it: a link carries this value
   * and works while it is current. Null once a link was used; absent on
   * connections stored before links carried it.
   */
  connectLink?: string | null;
  /** Where the host's system hears of this connection's productions (PATCH notify_url); absent or null: NOTIFY_URL. */
  notifyUrl?: string | null;
  createdAt: string;
  updatedAt: string;
  /** Why it needs attention (no secrets). */
  problem: string | null;
}

/** The store's keys, under a prefix (`bridge:` unless QUEUE_PREFIX says otherwise). */
function keysUnder(prefix: string) {
  return {
    connection: (id: string) => `${prefix}connection:${id}`,
    all: `${prefix}connections`,
    token: (userId: string) => `${prefix}oauth-token:${userId}`,
    oauthFlows: (id: string) => `${prefix}oauth-flows:${id}`,
    completing: (id: string) => `${prefix}connection-completing:${id}`,
  };
}

/** OAuth flows a connection keeps at once (its newest). */
const MAX_OAUTH_FLOWS = 5;

/** Adds a flow; drops expired ones, then the oldest past the cap. ARGV: nonce, entry, ttlMs, max, now. */
const START_FLOW = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local at = cjson.decode(all[i + 1]).at
  if at < tonumber(ARGV[5]) - tonumber(ARGV[3]) then redis.call('HDEL', KEYS[1], all[i])
  else table.insert(live, { all[i], at }) end
end
table.sort(live, function(a, b) return a[2] < b[2] end)
for i = 1, #live - tonumber(ARGV[4]) do redis.call('HDEL', KEYS[1], live[i][1]) end
return #live`;

/** Takes the nonce's flow, once: a forged or stale nonce takes nothing away. */
const CONSUME_FLOW = `local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return v`;

/** What a sealed token is bound to: its user, whatever prefix its key has (so a prefix change never orphans a token). */
const tokenBinding = (userId: string) => `bridge:oauth-token:${userId}`;

/** What an OAuth flow's nonce stands for: the connection, and the link it was started from. */
export interface OAuthFlow {
  connectionId: string;
  /** The link's value; null for a link issued before links carried one. */
  link: string | null;
}

/** 128 random bits, base64url: unguessable, and safe in URLs, Redis keys and BullMQ ids. */
export function newConnectionId(): string {
  return randomBytes(16).toString('base64url');
}

const newConnectLink = () => randomBytes(16).toString('base64url');

export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * Connections and their OAuth tokens in Redis. Tokens are sealed with
 * ENCRYPTION_KEY before they reach Redis; nothing here returns one except
 * accessToken(), for the worker.
 */
export class ConnectionStore {
  readonly #redis: Redis | Cluster;
  readonly #sealer: Sealer;
  readonly #key: ReturnType<typeof keysUnder>;

  /** On a Redis Cluster, keyPrefix must hold a hash tag: create(), list() and remove() touch several keys at once. */
  constructor(redis: Redis | Cluster, sealer: Sealer, opts: { keyPrefix?: string } = {}) {
    this.#key = keysUnder(opts.keyPrefix ?? 'bridge:');
    this.#redis = redis;
    this.#sealer = sealer;
  }

  async create(input: {
    displayName: string;
    customData: unknown;
    returnUrl: string | null;
    auphonicUser?: Connection['auphonicUser'];
  }): Promise<Connection> {
    const now = new Date().toISOString();
    const connection: Connection = {
      id: newConnectionId(),
      displayName: input.displayName,
      customData: input.customData ?? null,
      returnUrl: input.returnUrl,
      status: 'pending',
      auphonicUser: input.auphonicUser ?? null,
      serviceUuid: null,
      connectLink: newConnectLink(),
      createdAt: now,
      updatedAt: now,
      problem: null,
    };
    await this.#redis
      .multi()
      .set(this.#key.connection(connection.id), JSON.stringify(connection))
      .sadd(this.#key.all, connection.id)
      .exec();
    return connection;
  }

  async get(id: string): Promise<Connection | null> {
    if (!CONNECTION_ID_PATTERN.test(id)) return null;
    const raw = await this.#redis.get(this.#key.connection(id));
    return raw ? (JSON.parse(raw) as Connection) : null;
  }

  async list(): Promise<Connection[]> {
    const ids = (await this.#redis.smembers(this.#key.all)).sort();
    if (ids.length === 0) return [];
    const raws = await this.#redis.mget(ids.map(this.#key.connection));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Connection);
  }

  async update(id: string, patch: Partial<Omit<Connection, 'id' | 'createdAt'>>): Promise<Connection | null> {
    const current = await this.get(id);
    if (!current) return null;
    const next: Connection = { ...current, ...patch, id, updatedAt: new Date().toISOString() };
    await this.#redis.set(this.#key.connection(id), JSON.stringify(next));
    return next;
  }

  /** Removes a connection, and its user's token when no other connection uses it. */
  async remove(id: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current) return false;
    await this.#redis.multi().del(this.#key.connection(id)).srem(this.#key.all, id).exec();
    const userId = current.auphonicUser?.userId;
    if (userId && !(await this.list()).some((c) => c.auphonicUser?.userId === userId)) await this.#redis.del(this.#key.token(userId));
    return true;
  }

  async findByUserAndName(userId: string, displayName: string): Promise<Connection | null> {
    return (await this.list()).find((c) => c.auphonicUser?.userId === userId && c.displayName === displayName) ?? null;
  }

  async saveAccessToken(userId: string, accessToken: string): Promise<void> {
    await this.#redis.set(this.#key.token(userId), this.#sealer.seal(accessToken, tokenBinding(userId)));
  }

  /**
   * The connection's OAuth token, unsealed; null when it has none. One sealed
   * with the previous ENCRYPTION_KEY is sealed again with the current one.
   * Throws DecryptionError when no configured key opens it.
   */
  async accessToken(connection: Connection): Promise<string | null> {
    const userId = connection.auphonicUser?.userId;
    if (!userId) return null;
    const tokenKey = this.#key.token(userId);
    const sealed = await this.#redis.get(tokenKey);
    if (!sealed) return null;
    const { plaintext, current } = this.#sealer.unseal(sealed, tokenBinding(userId));
    if (!current) await this.#replace(tokenKey, sealed, this.#sealer.seal(plaintext, tokenBinding(userId)));
    return plaintext;
  }

  /** Sets a key only if it still holds `expected`: a token saved meanwhile (a new authorisation) wins. */
  async #replace(redisKey: string, expected: string, next: string): Promise<void> {
    await this.#redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2]) end return 0",
      1,
      redisKey,
      expected,
      next,
    );
  }

  /** Marks every connection of this user: Auphonic no longer accepts its token. */
  async markNeedsReauth(userId: string, problem: string): Promise<void> {
    for (const c of await this.list()) {
      if (c.auphonicUser?.userId === userId && c.status !== 'needs_reauth') await this.update(c.id, { status: 'needs_reauth', problem });
    }
  }

  /** A new authorize link for the connection; every earlier one stops working. */
  async renewConnectLink(id: string): Promise<Connection | null> {
    return this.update(id, { connectLink: newConnectLink() });
  }

  /**
   * Remembers an OAuth flow of the connection (its nonce, and the link it was started from)
   * until it is used once or expires. A connection keeps its newest MAX_OAUTH_FLOWS in one
   * hash: a link opened over and over holds one small key, not one a request, and a second
   * window (or a link checker's request) does not end the flow under way in the first.
   */
  async startOAuthFlow(nonce: string, flow: OAuthFlow, ttlMs: number): Promise<void> {
    const entry = JSON.stringify({ link: flow.link, at: Date.now() });
    await this.#redis.eval(START_FLOW, 1, this.#key.oauthFlows(flow.connectionId), nonce, entry, ttlMs, MAX_OAUTH_FLOWS, Date.now());
  }

  /** Takes the flow this nonce started, once: a replay, or a flow expired or pushed out by newer ones, gets null. */
  async consumeOAuthFlow(connectionId: string, nonce: string, ttlMs: number): Promise<OAuthFlow | null> {
    const raw = (await this.#redis.eval(CONSUME_FLOW, 1, this.#key.oauthFlows(connectionId), nonce)) as string | null;
    if (raw === null) return null;
    const { link, at } = JSON.parse(raw) as { link?: string | null; at?: number };
    if (typeof at !== 'number' || Date.now() - at > ttlMs) return null;
    return { connectionId, link: link ?? null };
  }

  /**
   * One completion at a time per connection: two callbacks of one link (two
   * windows) must not both connect it. False when another one holds it.
   */
  async claimCompletion(id: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.#key.completing(id), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseCompletion(id: string): Promise<void> {
    await this.#redis.del(this.#key.completing(id));
  }
}
