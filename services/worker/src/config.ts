import { readAuphonicBaseUrl } from '@auphonic-bridge/auphonic';
import { readEncryptionKeys } from '@auphonic-bridge/connections';
import { type RedisSettings, readRedisSettings } from '@auphonic-bridge/queue';
import { checkOutboundUrl, EnvReader, readLogLevel } from '@auphonic-bridge/runtime';
import { readProductionWebhookUrls, readStorageSettings, type StorageSettings } from '@auphonic-bridge/settings';
import type { NotifySettings } from './notify/deliver.ts';
import { parseWebhookSecret } from './notify/signature.ts';

export interface WorkerConfig {
  /** REDIS_URL and QUEUE_PREFIX, read as every service reads them. */
  redis: RedisSettings;
  auphonicBaseUrl: URL;
  /** For production webhooks of the API-key account; null when this worker serves only connections. */
  auphonicApiKey: string | null;
  /**
   * Unseal External Service tokens: ENCRYPTION_KEY first, then ENCRYPTION_KEY_PREVIOUS while
   * rotating (what it opens is sealed again with the current key). Null when this worker
   * serves only the API-key account.
   */
  encryptionKey: Buffer[] | null;
  /** STORAGE_URL (file:// or s3://) or STORAGE_DIR. */
  storage: StorageSettings;
  logLevel: string;
  /** Port of /metrics, /livez and /healthz; 0 picks a free one. */
  metricsPort: number;
  metricsHost: string;
  concurrency: number;
  /** How long a SIGTERM waits for jobs to finish before releasing them to another worker. */
  shutdownTimeoutMs: number;
  /** Compare Auphonic's `checksum` (32 hex digits, taken as MD5) with the bytes received. */
  verifyChecksums: boolean;
  /** How often one download may continue after its connection broke, within one attempt. */
  downloadResumes: number;
  /** Outputs of one production downloaded at once. */
  downloadConcurrency: number;
  /** DOWNLOAD_ALLOW_PRIVATE: a download's redirect may lead to a private address (object storage behind a private endpoint). */
  downloadAllowPrivate: boolean;
  /** Idle download slots take ranges of at least this many bytes of a running download (0: never). */
  downloadSplitMinBytes: number;
  /** Quick retries of one failed request (details, a download) within one attempt. */
  requestRetries: number;
  /** Backoff between attempts of a job. */
  backoff: { baseMs: number; maxMs: number };
  /** How long transient failures are retried before a production is given up (and recorded so). */
  retryForMs: number;
  /** A worker that dies loses its jobs' locks after this; another worker takes them over. */
  lockDurationMs: number;
  /** How often workers look for jobs whose worker died. */
  stalledIntervalMs: number;
  /** /healthz says 503 while a running job has made no progress for this long. */
  noProgressMs: number;
  /** How often to look for finished productions whose webhook never came; 0: never. */
  reconcileIntervalMs: number;
  /** Page size of the reconciler's walk through each owner's productions. */
  reconcileLimit: number;
  /** How far back the reconciler looks the first time (afterwards: since its last run). */
  reconcileLookbackMs: number;
  /**
   * Our production webhook URLs (PUBLIC_URL + /webhooks/auphonic/ + each secret): a production is the
   * account's own only when its webhook is one of them. Empty: the reconciler leaves the account alone.
   */
  accountWebhookUrls: string[];
  /** Telling the host's system (Standard Webhooks); null without NOTIFY_SECRET: nobody is told. */
  notify: NotifySettings | null;
  /**
   * PUBLIC_FILES_URL, the ingress's too: stored keys are public under it (a CDN). chapters.json then points at its
   * chapter images by full URL (else by their bare names, beside it), and the record gives each stored file its `url`.
   */
  publicFilesUrl: URL | null;
}

/** Reads and validates every setting once; throws ConfigError naming each bad one. */
export function readConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const r = new EnvReader(env);
  const encryptionKey = readEncryptionKeys(r, { optional: true });
  const apiKey = encryptionKey && !env.AUPHONIC_API_KEY?.trim() ? null : r.string('AUPHONIC_API_KEY', { minLength: 8 });
  const config: WorkerConfig = {
    redis: readRedisSettings(r),
    auphonicBaseUrl: readAuphonicBaseUrl(r),
    auphonicApiKey: apiKey,
    encryptionKey,
    storage: readStorageSettings(r),
    logLevel: readLogLevel(r),
    metricsPort: r.int('METRICS_PORT', { default: 9464, min: 0, max: 65535 }),
    metricsHost: r.string('METRICS_HOST', { default: '0.0.0.0' }),
    concurrency: r.int('WORKER_CONCURRENCY', { default: 2, min: 1, max: 64 }),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', { default: 25_000, min: 0, max: 3_600_000 }),
    verifyChecksums: r.bool('VERIFY_CHECKSUMS', { default: true }),
    downloadResumes: r.int('DOWNLOAD_RESUMES', { default: 5, min: 0, max: 100 }),
    downloadConcurrency: r.int('DOWNLOAD_CONCURRENCY', { default: 3, min: 1, max: 16 }),
    downloadAllowPrivate: r.bool('DOWNLOAD_ALLOW_PRIVATE', { default: false }),
    downloadSplitMinBytes: r.int('DOWNLOAD_SPLIT_MIN_MB', { default: 8, min: 0, max: 1_000_000 }) * 1024 * 1024,
    requestRetries: r.int('REQUEST_RETRIES', { default: 4, min: 0, max: 20 }),
    backoff: {
      baseMs: r.int('RETRY_BASE_DELAY_MS', { default: 5_000, min: 1, max: 3_600_000 }),
      maxMs: r.int('RETRY_MAX_DELAY_MS', { default: 15 * 60_000, min: 1, max: 24 * 3_600_000 }),
    },
    retryForMs: r.duration('RETRY_FOR', { default: '48h', min: '1s', max: '30d' }),
    lockDurationMs: r.int('LOCK_DURATION_MS', { default: 10_000, min: 1_000, max: 600_000 }),
    stalledIntervalMs: r.int('STALLED_INTERVAL_MS', { default: 5_000, min: 500, max: 600_000 }),
    noProgressMs: r.duration('NO_PROGRESS_TIMEOUT', { default: '5m', min: '1s', max: '24h' }),
    reconcileIntervalMs: r.int('RECONCILE_INTERVAL_MS', { default: 15 * 60_000, min: 0, max: 7 * 24 * 3_600_000 }),
    reconcileLimit: r.int('RECONCILE_LIMIT', { default: 100, min: 1, max: 100 }),
    reconcileLookbackMs: r.duration('RECONCILE_LOOKBACK', { default: '7d', min: '1m', max: '365d' }),
    // The ingress's PUBLIC_URL and webhook secrets, read here only to recognise our own productions.
    accountWebhookUrls: readProductionWebhookUrls(r, { required: false }).urls,
    notify: readNotifySettings(r),
    publicFilesUrl: r.optionalString('PUBLIC_FILES_URL') ? r.url('PUBLIC_FILES_URL', { protocols: ['https:', 'http:'] }) : null,
  };
  if (config.reconcileIntervalMs > 0 && config.reconcileIntervalMs < 1000)
    r.problem('RECONCILE_INTERVAL_MS', 'must be 0 (off) or at least 1000');
  if (config.stalledIntervalMs >= config.lockDurationMs) r.problem('STALLED_INTERVAL_MS', 'must be shorter than LOCK_DURATION_MS');
  r.done();
  return config;
}

/** NOTIFY_URL for the account (connections may have their own), signed with NOTIFY_SECRET (and _PREVIOUS while rotating). */
function readNotifySettings(r: EnvReader): NotifySettings | null {
  const raw = r.optionalString('NOTIFY_URL');
  const keys = ['NOTIFY_SECRET', 'NOTIFY_SECRET_PREVIOUS'].flatMap((name) => {
    const value = r.optionalString(name);
    if (!value) return [];
    const key = parseWebhookSecret(value);
    if (!key)
      r.problem(name, 'must be a Standard Webhooks secret: whsec_ and base64 of at least 24 bytes (e.g. whsec_$(openssl rand -base64 32))');
    return key ? [key] : [];
  });
  if (raw && !r.optionalString('NOTIFY_SECRET')) r.problem('NOTIFY_SECRET', 'is required with NOTIFY_URL (the events are signed)');
  if (r.optionalString('NOTIFY_SECRET_PREVIOUS') && !r.optionalString('NOTIFY_SECRET'))
    r.problem('NOTIFY_SECRET', 'is required with NOTIFY_SECRET_PREVIOUS');
  const allowPrivate = r.bool('NOTIFY_ALLOW_PRIVATE', { default: false });
  if (raw) {
    try {
      checkOutboundUrl(raw, { allowPrivate });
    } catch (err) {
      r.problem('NOTIFY_URL', (err as Error).message);
    }
  }
  const settings = {
    url: raw ? r.url('NOTIFY_URL', { protocols: ['https:', 'http:'] }) : null,
    keys,
    allowPrivate,
    retryForMs: r.duration('NOTIFY_RETRY_FOR', { default: '24h', min: '1s', max: '30d' }),
    timeoutMs: r.int('NOTIFY_TIMEOUT_MS', { default: 15_000, min: 100, max: 120_000 }),
    concurrency: r.int('NOTIFY_CONCURRENCY', { default: 8, min: 1, max: 256 }),
  };
  return keys.length > 0 ? settings : null;
}
