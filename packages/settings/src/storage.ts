import { tmpdir } from 'node:os';
import type { EnvReader } from '@auphonic-bridge/runtime';
import { type StorageConfig, StorageError } from '@auphonic-bridge/storage';

export type StorageSettings = StorageConfig & {
  /** The setting that chose it, to name in messages. */
  setting: 'STORAGE_DIR' | 'STORAGE_URL';
};

/**
 * STORAGE_URL chooses the driver: file:///path or s3://bucket/prefix;
 * STORAGE_DIR is the directory driver's shorthand. S3 credentials come from
 * the AWS SDK's own chain (environment, profiles, IRSA), never from here.
 */
export function readStorageSettings(r: EnvReader): StorageSettings {
  const url = r.optionalString('STORAGE_URL');
  const dir = r.optionalString('STORAGE_DIR');
  if (url && dir) r.problem('STORAGE_DIR', 'set STORAGE_URL or STORAGE_DIR, not both');
  if (!url) return { kind: 'directory', path: r.string('STORAGE_DIR'), setting: 'STORAGE_DIR' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    r.problem('STORAGE_URL', 'must be file:///path or s3://bucket/prefix');
    return { kind: 'directory', path: '', setting: 'STORAGE_URL' };
  }
  if (parsed.protocol === 'file:') return { kind: 'directory', path: decodeURIComponent(parsed.pathname), setting: 'STORAGE_URL' };
  if (parsed.protocol !== 's3:' || !parsed.hostname) {
    r.problem('STORAGE_URL', 'must be file:///path or s3://bucket/prefix');
    return { kind: 'directory', path: '', setting: 'STORAGE_URL' };
  }
  const endpoint = r.optionalString('S3_ENDPOINT') ?? null;
  if (endpoint && !/^https?:\/\//.test(endpoint)) r.problem('S3_ENDPOINT', 'must be an http(s) URL, or empty for AWS');
  return {
    kind: 's3',
    setting: 'STORAGE_URL',
    bucket: parsed.hostname,
    prefix: decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint,
    region: r.string('S3_REGION', { default: r.optionalString('AWS_REGION') ?? 'us-east-1' }),
    forcePathStyle: r.bool('S3_FORCE_PATH_STYLE', { default: endpoint !== null }),
    partSize: r.int('S3_PART_SIZE_MB', { default: 5, min: 5, max: 5120 }) * 1024 * 1024,
    concurrency: r.int('S3_UPLOAD_CONCURRENCY', { default: 1, min: 1, max: 64 }),
    timeouts: {
      connectMs: r.int('S3_CONNECT_TIMEOUT_MS', { default: 10_000, min: 0, max: 600_000 }),
      socketMs: r.int('S3_SOCKET_TIMEOUT_MS', { default: 60_000, min: 0, max: 3_600_000 }),
      requestMs: r.int('S3_REQUEST_TIMEOUT_MS', { default: 300_000, min: 0, max: 3_600_000 }),
    },
    // Within the Kubernetes worker's 1 GiB emptyDir at /tmp (deploy/), with room to spare.
    spool: { dir: tmpdir(), maxBytes: r.int('DOWNLOAD_SPLIT_SPOOL_MB', { default: 512, min: 0, max: 1_000_000 }) * 1024 * 1024 },
  };
}

/** A storage that cannot start, said in terms of the settings to fix. */
export function explainStorageError(err: unknown, settings: StorageSettings): unknown {
  if (!(err instanceof StorageError)) return err;
  const hint: Record<string, string> = {
    ERR_STORAGE_NOT_WRITABLE: `${settings.setting}: ${err.message}`,
    ERR_STORAGE_NO_BUCKET: `STORAGE_URL: ${err.message}`,
    ERR_STORAGE_CREDENTIALS: `${err.message}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS profile / IRSA role)`,
    ERR_STORAGE_UNREACHABLE: `STORAGE_URL: ${err.message}; check S3_ENDPOINT and S3_REGION`,
    ERR_STORAGE_SPOOL: `DOWNLOAD_SPLIT_SPOOL_MB: ${err.message}; set TMPDIR to a writable directory, or DOWNLOAD_SPLIT_SPOOL_MB=0 to never split downloads to S3`,
  };
  const message = hint[err.code];
  return message ? new StorageError(err.code as 'ERR_STORAGE_UNREACHABLE', message, { retryable: false, cause: err }) : err;
}
