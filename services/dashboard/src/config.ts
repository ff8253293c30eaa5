import { type RedisSettings, readRedisSettings } from '@auphonic-bridge/queue';
import { EnvReader, readLogLevel } from '@auphonic-bridge/runtime';

export interface DashboardConfig {
  /** REDIS_URL and QUEUE_PREFIX, read as every service reads them. */
  redis: RedisSettings;
  port: number;
  host: string;
  logLevel: string;
  /** null only when DASHBOARD_OPEN=true explicitly opens it (local use). */
  credentials: { user: string; password: string } | null;
  /** Retry and clean buttons; read-only otherwise. */
  allowActions: boolean;
}

/** Reads and validates every setting once; throws ConfigError naming each bad one. */
export function readConfig(env: Record<string, string | undefined> = process.env): DashboardConfig {
  const r = new EnvReader(env);
  const open = r.bool('DASHBOARD_OPEN', { default: false });
  const user = open ? r.optionalString('DASHBOARD_USER') : r.string('DASHBOARD_USER');
  const password = open ? r.optionalString('DASHBOARD_PASSWORD') : r.string('DASHBOARD_PASSWORD', { minLength: 12 });
  const config: DashboardConfig = {
    redis: readRedisSettings(r),
    port: r.int('PORT', { default: 3001, min: 0, max: 65535 }),
    host: r.string('HOST', { default: '0.0.0.0' }),
    logLevel: readLogLevel(r),
    credentials: user && password ? { user, password } : null,
    allowActions: r.bool('DASHBOARD_ALLOW_ACTIONS', { default: false }),
  };
  r.done();
  return config;
}
