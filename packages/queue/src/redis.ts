import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from './settings.ts';

/** What the services hold: a connection to one Redis (a single node, or the primary Sentinel names) or to a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  /** Where a connection problem is said (once per problem, by its code): without a listener, ioredis's 'error' would crash the process. */
  logger?: { warn(obj: object, msg: string): void };
  /** More options for each connection to a node (on a cluster: to each of its nodes). */
  redis?: RedisOptions;
}

/** How a kind of caller wants Redis's absence handled. */
interface Role {
  /** Queue commands while disconnected (workers), or refuse them at once (producers: the caller answers 503). */
  offlineQueue: boolean;
  maxRetriesPerRequest: number | null;
  retryCapMs: number;
  connectTimeout?: number;
}

const PRODUCER: Role = { offlineQueue: false, maxRetriesPerRequest: 1, retryCapMs: 2_000, connectTimeout: 5_000 };
/** BullMQ's blocking commands need maxRetriesPerRequest null. */
const WORKER: Role = { offlineQueue: true, maxRetriesPerRequest: null, retryCapMs: 5_000 };

export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection.isCluster;
}

function connect(settings: RedisSettings, role: Role, opts: ConnectionOptions): RedisConnection {
  const retryStrategy = (times: number) => Math.min(times * 200, role.retryCapMs);
  // Node's TLS checks the certificate against the name the node was reached by (Node's CAs, or REDIS_TLS_CA_FILE's).
  const tls = settings.tls ? (settings.tls.ca === null ? {} : { ca: settings.tls.ca }) : undefined;
  const node: RedisOptions = {
    maxRetriesPerRequest: role.maxRetriesPerRequest,
    ...(role.connectTimeout === undefined ? {} : { connectTimeout: role.connectTimeout }),
    ...(settings.password === null ? {} : { password: settings.password }),
    ...(tls ? { tls } : {}),
  };
  const { topology } = settings;
  let redis: RedisConnection;
  if (topology.kind === 'cluster') {
    // The offline queue and reconnecting belong to the cluster as a whole, not to each node.
    redis = new Cluster(topology.nodes, {
      enableOfflineQueue: role.offlineQueue,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...node, ...opts.redis },
      // With TLS, a node is reached by the name it was given or announced, not by an address it resolves to: that name is what its certificate names.
      ...(tls ? { dnsLookup: (address: string, done: (err: Error | null, address: string) => void) => done(null, address) } : {}),
    });
    redis.on('node error', (err: NodeJS.ErrnoException) => opts.logger?.warn({ code: err.code }, 'redis cluster node problem'));
  } else if (topology.kind === 'sentinel') {
    redis = new Redis({
      ...node,
      enableOfflineQueue: role.offlineQueue,
      retryStrategy,
      sentinels: topology.sentinels,
      name: topology.name,
      ...(topology.sentinelPassword === null ? {} : { sentinelPassword: topology.sentinelPassword }),
      // REDIS_TLS: the sentinels, and the primary and replicas they name.
      ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      // Leave the old primary as soon as a sentinel announces the new one: the old one takes writes until it is demoted, and loses them.
      failoverDetector: true,
      ...opts.redis,
    });
  } else {
    redis = new Redis(topology.url.toString(), { ...node, enableOfflineQueue: role.offlineQueue, retryStrategy, ...opts.redis });
  }
  redis.on('error', (err: NodeJS.ErrnoException) => opts.logger?.warn({ code: err.code }, 'redis connection problem'));
  return redis;
}

/**
 * For code that answers a request (the ingress): fail at once while Redis is
 * away instead of queueing commands, so the caller can answer 503.
 */
export function createProducerConnection(settings: RedisSettings, opts: ConnectionOptions = {}): RedisConnection {
  return connect(settings, PRODUCER, opts);
}

/** For workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function createWorkerConnection(settings: RedisSettings, opts: ConnectionOptions = {}): RedisConnection {
  return connect(settings, WORKER, opts);
}

/** Another connection to the same Redis for BullMQ's blocking reads (QueueEvents): it waits for a Redis that is away instead of failing. */
export function duplicateForBlocking(connection: RedisConnection): RedisConnection {
  if (isCluster(connection)) {
    return connection.duplicate(undefined, {
      enableOfflineQueue: true,
      redisOptions: { ...connection.options.redisOptions, maxRetriesPerRequest: null, commandTimeout: undefined },
    });
  }
  // No command timeout (a producer's is taken off): a blocking command waits as long as it asks to.
  return connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined });
}

/**
 * Gives the connection up to `ms` to become ready, and says whether it did. A service calls it before it
 * listens, so that /healthz is not 503 only because Redis was still connecting; it listens either way.
 */
export async function untilRedisReady(redis: RedisConnection, ms = 5_000): Promise<boolean> {
  const isReady = () => redis.status === 'ready';
  if (isReady()) return true;
  // Not events.once: it gives up at the first 'error', and a refused connection is one while Redis starts.
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
    redis.once('ready', resolve);
  });
  await Promise.race([ready, sleep(ms, undefined, { ref: false })]);
  if (onReady) redis.off('ready', onReady);
  return isReady();
}

/** Whether Redis answers a PING within the time: what /healthz asks. */
export async function pingRedis(redis: RedisConnection, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  const timedOut = AbortSignal.timeout(timeoutMs);
  const late = new Promise<false>((resolve) => timedOut.addEventListener('abort', () => resolve(false), { once: true }));
  return Promise.race([
    redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    ),
    late,
  ]);
}
