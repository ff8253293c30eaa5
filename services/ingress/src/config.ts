import { readAuphonicBaseUrl } from '@auphonic-bridge/auphonic';
import { readEncryptionKeys } from '@auphonic-bridge/connections';
import { type RedisSettings, readRedisSettings } from '@auphonic-bridge/queue';
import { EnvReader, readLogLevel } from '@auphonic-bridge/runtime';

/** Settings of the External Service mode (OAuth connect, JWT webhooks, admin API). */
export interface ExternalServiceConfig {
  auphonicBaseUrl: URL;
  clientId: string;
  /** The current client secret first; a previous one is accepted during rotation. */
  clientSecrets: string[];
  /** The ingress's external base URL, without a trailing slash. */
  publicUrl: string;
  /** ENCRYPTION_KEY first; ENCRYPTION_KEY_PREVIOUS still opens (and verifies) what the old key sealed (and signed). */
  encryptionKeys: Buffer[];
  /** Service webhooks one connection may deliver per minute (a replayed token costs no more); 0: no limit. */
  serviceWebhookRateLimit: number;
  /** 0: answer the JWT webhook at once; else wait up to this long for the files. */
  resultWaitMs: number;
  /** e.g. https://podcasts.example/episodes/{uuid}?show={custom_data.show_id} */
  resultPageUrlTemplate: string | null;
  /** Public base URL under which stored keys are reachable (a CDN), for result_file_url. */
  publicFilesUrl: URL | null;
  /** NOTIFY_ALLOW_PRIVATE: notify URLs may point at loopback, private or link-local addresses (the worker's setting too). */
  notifyAllowPrivate: boolean;
}

export interface IngressConfig {
  /** REDIS_URL and QUEUE_PREFIX, read as every service reads them. */
  redis: RedisSettings;
  /** Production webhooks: the current secret first; a previous one is accepted during rotation. Empty: off. */
  webhookSecrets: string[];
  port: number;
  host: string;
  /** The operations port: /metrics and /queue-depth (and the probes again), apart from the public one; 0 picks a free one. */
  metricsPort: number;
  metricsHost: string;
  logLevel: string;
  /** Largest webhook body accepted, in bytes. */
  bodyLimit: number;
  /** How long enqueueing may take before the webhook is answered 503. */
  enqueueTimeoutMs: number;
  /** Answer 2xx only once Redis has fsynced the job to its AOF (WAITAOF, Redis 7.2 or later). */
  enqueueWaitAof: boolean;
  /** Answer 2xx only once this many replicas have the job (WAIT), so that a failover keeps it; 0: do not wait. */
  enqueueWaitReplicas: number;
  /**
   * The admin API's bearer tokens: ADMIN_TOKEN first, ADMIN_TOKEN_PREVIOUS accepted during rotation.
   * Required in External Service mode; elsewhere optional, and empty means no admin API.
   */
  adminTokens: string[];
  externalService: ExternalServiceConfig | null;
}

const SECRET = { minLength: 16 } as const;

/** Reads and validates every setting once; throws ConfigError naming each bad one. */
export function readConfig(env: Record<string, string | undefined> = process.env): IngressConfig {
  const r = new EnvReader(env);
  const redis = readRedisSettings(r);
  const externalService = env.AUPHONIC_CLIENT_ID?.trim() ? readExternalService(r) : null;
  // Production webhooks need their secret unless this ingress serves only as an External Service.
  const secret = r.secret('WEBHOOK_SECRET', { ...SECRET, optional: externalService !== null });
  const previous = r.secret('WEBHOOK_SECRET_PREVIOUS', { ...SECRET, optional: true });
  const config: IngressConfig = {
    redis,
    webhookSecrets: [secret, previous].filter(Boolean),
    port: r.int('PORT', { default: 3000, min: 0, max: 65535 }),
    host: r.string('HOST', { default: '0.0.0.0' }),
    metricsPort: r.int('METRICS_PORT', { default: 9464, min: 0, max: 65535 }),
    metricsHost: r.string('METRICS_HOST', { default: '0.0.0.0' }),
    logLevel: readLogLevel(r),
    bodyLimit: r.int('WEBHOOK_BODY_LIMIT', { default: 16 * 1024, min: 256, max: 1024 * 1024 }),
    enqueueTimeoutMs: r.int('ENQUEUE_TIMEOUT_MS', { default: 5_000, min: 100, max: 50_000 }),
    enqueueWaitAof: r.bool('ENQUEUE_WAIT_AOF', { default: false }),
    // Sentinel fails over to a replica: what only the old primary had is lost, so wait for one by default.
    enqueueWaitReplicas: r.int('ENQUEUE_WAIT_REPLICAS', { default: redis.topology.kind === 'sentinel' ? 1 : 0, min: 0, max: 16 }),
    adminTokens: readAdminTokens(r, { optional: externalService === null }),
    externalService,
  };
  if (redis.topology.kind === 'cluster') {
    // WAIT and WAITAOF count one connection's writes on one node; on a cluster they would go to any node, not the queues'.
    if (config.enqueueWaitReplicas > 0) r.problem('ENQUEUE_WAIT_REPLICAS', 'is not supported with REDIS_CLUSTER_NODES; set it to 0');
    if (config.enqueueWaitAof) r.problem('ENQUEUE_WAIT_AOF', 'is not supported with REDIS_CLUSTER_NODES');
  }
  r.done();
  return config;
}

function readExternalService(r: EnvReader): ExternalServiceConfig {
  const encryptionKeys = readEncryptionKeys(r, { optional: false }) ?? [];
  const publicUrl = r.url('PUBLIC_URL', { protocols: ['https:', 'http:'] });
  if (publicUrl.search || publicUrl.hash) r.problem('PUBLIC_URL', 'must not have a query or fragment');
  const template = r.optionalString('RESULT_PAGE_URL_TEMPLATE') ?? null;
  if (template && !/^https?:\/\//.test(template)) r.problem('RESULT_PAGE_URL_TEMPLATE', 'must start with http:// or https://');
  const publicFiles = r.optionalString('PUBLIC_FILES_URL');
  const client = {
    auphonicBaseUrl: readAuphonicBaseUrl(r),
    clientId: r.string('AUPHONIC_CLIENT_ID'),
    clientSecrets: [r.string('AUPHONIC_CLIENT_SECRET', { minLength: 8 }), r.optionalString('AUPHONIC_CLIENT_SECRET_PREVIOUS') ?? ''].filter(
      Boolean,
    ),
  };
  return {
    ...client,
    publicUrl: publicUrl.toString().replace(/\/+$/, ''),
    encryptionKeys,
    serviceWebhookRateLimit: r.int('SERVICE_WEBHOOK_RATE_LIMIT', { default: 60, min: 0, max: 100_000 }),
    resultWaitMs: r.int('RESULT_WAIT_MS', { default: 0, min: 0, max: 50_000 }),
    resultPageUrlTemplate: template,
    publicFilesUrl: publicFiles ? r.url('PUBLIC_FILES_URL', { protocols: ['https:', 'http:'] }) : null,
    notifyAllowPrivate: r.bool('NOTIFY_ALLOW_PRIVATE', { default: false }),
  };
}

/** ADMIN_TOKEN, then ADMIN_TOKEN_PREVIOUS while rotating; without them (outside External Service mode) there is no admin API. */
function readAdminTokens(r: EnvReader, opts: { optional: boolean }): string[] {
  const token = r.secret('ADMIN_TOKEN', { minLength: 24, optional: opts.optional });
  const previous = r.secret('ADMIN_TOKEN_PREVIOUS', { minLength: 24, optional: true });
  if (previous && !token && opts.optional) r.problem('ADMIN_TOKEN_PREVIOUS', 'is set without ADMIN_TOKEN (the current token)');
  return [token, previous].filter(Boolean);
}
