import { EnvReader, LOG_LEVELS } from '@auphonic-bridge/runtime';

export interface IngressConfig {
  redisUrl: URL;
  /** The current secret first; a previous one is accepted during rotation. */
  webhookSecrets: string[];
  port: number;
  host: string;
  logLevel: string;
  /** Largest webhook body accepted, in bytes. */
  bodyLimit: number;
  /** How long enqueueing may take before the webhook is answered 503. */
  enqueueTimeoutMs: number;
}

/** Reads and validates every setting once; throws ConfigError naming each bad one. */
export function readConfig(env: Record<string, string | undefined> = process.env): IngressConfig {
  const r = new EnvReader(env);
  const secret = r.secret('WEBHOOK_SECRET', { minLength: 16 });
  const previous = r.secret('WEBHOOK_SECRET_PREVIOUS', { minLength: 16, optional: true });
  const config: IngressConfig = {
    redisUrl: r.url('REDIS_URL', { default: 'redis://127.0.0.1:6379', protocols: ['redis:', 'rediss:'] }),
    webhookSecrets: previous ? [secret, previous] : [secret],
    port: r.int('PORT', { default: 3000, min: 0, max: 65535 }),
    host: r.string('HOST', { default: '0.0.0.0' }),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    bodyLimit: r.int('WEBHOOK_BODY_LIMIT', { default: 16 * 1024, min: 256, max: 1024 * 1024 }),
    enqueueTimeoutMs: r.int('ENQUEUE_TIMEOUT_MS', { default: 5_000, min: 100, max: 50_000 }),
  };
  r.done();
  return config;
}
