import { readFileSync } from 'node:fs';
import type { EnvReader } from '@auphonic-bridge/runtime';

/** One node's address, as REDIS_CLUSTER_NODES and REDIS_SENTINELS list them. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Which Redis: one node (REDIS_URL); a Redis Cluster, reached through any of its nodes
 * (REDIS_CLUSTER_NODES); or a primary with replicas that Sentinel names and fails over
 * (REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD for the sentinels themselves).
 */
export type RedisTopology =
  | { kind: 'single'; url: URL }
  | { kind: 'cluster'; nodes: RedisNode[] }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelPassword: string | null };

/** Where the queues live, read the same way by every service. */
export interface RedisSettings {
  topology: RedisTopology;
  /** REDIS_PASSWORD: the password of the nodes that hold data (never logged); with REDIS_URL it may be in the URL instead. */
  password: string | null;
  /**
   * TLS to every node (and to the sentinels): `rediss:` in REDIS_URL, REDIS_TLS=true with a
   * cluster or sentinels. `ca`: REDIS_TLS_CA_FILE's certificates, trusted instead of Node's own
   * (a private CA); null: Node's. Null: no TLS.
   */
  tls: { ca: string | null } | null;
  /**
   * BullMQ's key prefix (QUEUE_PREFIX). The default, `bull`, is BullMQ's own: keys stay where
   * they always were. Two bridges on one Redis take two prefixes; a Redis Cluster needs a hash
   * tag, e.g. `{bridge}`, so that every key of a queue is in one slot.
   */
  prefix: string;
}

export const DEFAULT_QUEUE_PREFIX = 'bull';

const NODE_LIST = 'a comma-separated list of host:port, e.g. redis-1:6379,redis-2:6379';

export function readRedisSettings(r: EnvReader): RedisSettings {
  const prefix = r.string('QUEUE_PREFIX', { default: DEFAULT_QUEUE_PREFIX });
  if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(prefix)) r.problem('QUEUE_PREFIX', 'must be 1 to 64 of A-Z a-z 0-9 _ . - { } (no colon)');
  const clusterNodes = readNodes(r, 'REDIS_CLUSTER_NODES');
  const sentinels = readNodes(r, 'REDIS_SENTINELS');
  const sentinelName = r.optionalString('REDIS_SENTINEL_NAME');
  const sentinelPassword = r.optionalString('REDIS_SENTINEL_PASSWORD') ?? null;
  const password = r.optionalString('REDIS_PASSWORD') ?? null;
  const explicitUrl = r.optionalString('REDIS_URL');
  const url = r.url('REDIS_URL', { default: 'redis://127.0.0.1:6379', protocols: ['redis:', 'rediss:'] });

  if (clusterNodes && sentinels) r.problem('REDIS_SENTINELS', 'set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  const several = clusterNodes ? 'REDIS_CLUSTER_NODES' : sentinels ? 'REDIS_SENTINELS' : null;
  if (several && explicitUrl) r.problem('REDIS_URL', `names one Redis: leave it unset with ${several}`);
  if (!sentinels) {
    if (sentinelName) r.problem('REDIS_SENTINEL_NAME', 'is set without REDIS_SENTINELS');
    if (sentinelPassword) r.problem('REDIS_SENTINEL_PASSWORD', 'is set without REDIS_SENTINELS');
  }
  const tls = readTls(r, several, url);
  if (password && !clusterNodes && !sentinels && url.password) {
    r.problem('REDIS_PASSWORD', 'is set and REDIS_URL carries a password too: give it in one of them');
  }

  let topology: RedisTopology = { kind: 'single', url };
  if (clusterNodes) {
    // BullMQ's scripts touch several keys of a queue at once: on a cluster they must share a slot.
    if (hashTag(prefix) === null) {
      r.problem(
        'QUEUE_PREFIX',
        'must hold a hash tag with REDIS_CLUSTER_NODES, e.g. {bridge}, so that all keys of the bridge share one slot',
      );
    }
    topology = { kind: 'cluster', nodes: clusterNodes };
  } else if (sentinels) {
    if (!sentinelName) r.problem('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the name the sentinels monitor)');
    topology = { kind: 'sentinel', sentinels, name: sentinelName ?? '', sentinelPassword };
  }
  return { topology, password, tls, prefix };
}

/** REDIS_TLS (a cluster, sentinels) or the URL's scheme, and REDIS_TLS_CA_FILE, read once here. */
function readTls(r: EnvReader, several: string | null, url: URL): RedisSettings['tls'] {
  const explicit = r.optionalString('REDIS_TLS') !== undefined;
  const wanted = r.bool('REDIS_TLS', { default: false });
  let on = wanted;
  if (!several) {
    on = url.protocol === 'rediss:';
    if (explicit && wanted !== on) {
      r.problem(
        'REDIS_TLS',
        `with REDIS_URL, TLS is the URL's scheme: ${wanted ? 'rediss://' : 'redis://'} (REDIS_TLS applies to REDIS_CLUSTER_NODES and REDIS_SENTINELS)`,
      );
    }
  }
  const caFile = r.optionalString('REDIS_TLS_CA_FILE');
  if (caFile === undefined) return on ? { ca: null } : null;
  if (!on) {
    r.problem('REDIS_TLS_CA_FILE', `is set without TLS (${several ? 'REDIS_TLS=true' : 'rediss:// in REDIS_URL'})`);
    return null;
  }
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (err) {
    r.problem('REDIS_TLS_CA_FILE', `cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return { ca: null };
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) r.problem('REDIS_TLS_CA_FILE', `${caFile} holds no PEM certificate`);
  return { ca };
}

/** A list of host:port, null when unset. Entries are not echoed: a URL given by mistake may carry a password. */
function readNodes(r: EnvReader, name: string): RedisNode[] | null {
  const raw = r.optionalString(name);
  if (raw === undefined) return null;
  const nodes: RedisNode[] = [];
  for (const [i, entry] of raw
    .split(',')
    .map((e) => e.trim())
    .entries()) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) {
      r.problem(name, `entry ${i + 1} is not host:port; ${name} is ${NODE_LIST}`);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return nodes;
}

/**
 * The hash tag Redis Cluster places a key by: what stands between the key's first `{` and the
 * next `}`, when that is not empty. Every key of the bridge begins with the prefix.
 */
export function hashTag(prefix: string): string | null {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : null;
}

/**
 * The prefix of the bridge's own keys (connections, tokens, watermarks, rate limits), beside
 * BullMQ's: under QUEUE_PREFIX, so that two bridges never share them and a cluster keeps them
 * in the queues' slot. With the default prefix they stay where they always were (`bridge:`).
 */
export function bridgeKeyPrefix(settings: Pick<RedisSettings, 'prefix'>): string {
  return settings.prefix === DEFAULT_QUEUE_PREFIX ? 'bridge:' : `${settings.prefix}:bridge:`;
}

/** Where the queues are, for a message: the address and the setting that gave it, never a password. */
export function describeRedis(settings: Pick<RedisSettings, 'topology' | 'tls'>): string {
  const list = (nodes: RedisNode[]) =>
    nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(', ');
  const { topology } = settings;
  const tls = settings.tls ? ' over TLS' : '';
  if (topology.kind === 'cluster') return `the Redis Cluster at ${list(topology.nodes)}${tls} (REDIS_CLUSTER_NODES)`;
  if (topology.kind === 'sentinel') return `${topology.name} through the sentinels ${list(topology.sentinels)}${tls} (REDIS_SENTINELS)`;
  return `Redis at ${topology.url.host}${tls} (REDIS_URL)`;
}
