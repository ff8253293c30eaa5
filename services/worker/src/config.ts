import { readEncryptionKeys } from '@auphonic-bridge/connections';
import { EnvReader, LOG_LEVELS } from '@auphonic-bridge/runtime';
import { readStorageConfig, type StorageConfig } from '@auphonic-bridge/storage';

export interface WorkerConfig {
  redisUrl: URL;
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
  storage: StorageConfig;
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
  backoff: { baseMs: number; maxMs: number };
  /** How often to look for finished productions whose webhook never came; 0: never. */
  reconcileIntervalMs: number;
  /** How many of each owner's newest productions the reconciler looks at. */
  reconcileLimit: number;
}

/** Reads and validates every setting once; throws ConfigError naming each bad one. */
export function readConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const r = new EnvReader(env);
  const encryptionKey = readEncryptionKeys(r, { optional: true });
  const apiKey = encryptionKey && !env.AUPHONIC_API_KEY?.trim() ? null : r.string('AUPHONIC_API_KEY', { minLength: 8 });
  const config: WorkerConfig = {
    redisUrl: r.url('REDIS_URL', { default: 'redis://127.0.0.1:6379', protocols: ['redis:', 'rediss:'] }),
    auphonicBaseUrl: r.url('AUPHONIC_BASE_URL', { default: 'https://auphonic.com', protocols: ['https:', 'http:'] }),
    auphonicApiKey: apiKey,
    encryptionKey,
    storage: readStorageConfig(r),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    metricsPort: r.int('METRICS_PORT', { default: 9464, min: 0, max: 65535 }),
    metricsHost: r.string('METRICS_HOST', { default: '0.0.0.0' }),
    concurrency: r.int('WORKER_CONCURRENCY', { default: 2, min: 1, max: 64 }),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', { default: 25_000, min: 0, max: 3_600_000 }),
    verifyChecksums: r.bool('VERIFY_CHECKSUMS', { default: true }),
    downloadResumes: r.int('DOWNLOAD_RESUMES', { default: 5, min: 0, max: 100 }),
    backoff: {
      baseMs: r.int('RETRY_BASE_DELAY_MS', { default: 5_000, min: 1, max: 3_600_000 }),
      maxMs: r.int('RETRY_MAX_DELAY_MS', { default: 15 * 60_000, min: 1, max: 24 * 3_600_000 }),
    },
    reconcileIntervalMs: r.int('RECONCILE_INTERVAL_MS', { default: 15 * 60_000, min: 0, max: 7 * 24 * 3_600_000 }),
    reconcileLimit: r.int('RECONCILE_LIMIT', { default: 50, min: 1, max: 100 }),
  };
  if (config.reconcileIntervalMs > 0 && config.reconcileIntervalMs < 1000)
    r.problem('RECONCILE_INTERVAL_MS', 'must be 0 (off) or at least 1000');
  if (config.auphonicBaseUrl.pathname !== '/' || config.auphonicBaseUrl.search) {
    r.problem('AUPHONIC_BASE_URL', 'must be an origin only, like https://auphonic.com');
  }
  r.done();
  return config;
}
