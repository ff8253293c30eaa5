import { type Logger, pino } from 'pino';
import type { EnvReader } from './env.ts';

export type { Logger } from 'pino';

// Paths that may carry credentials, removed wherever they appear in a log line.
const redact = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

export function createLogger(opts: {
  service: string;
  level: string;
  destination?: pino.DestinationStream;
  serializers?: pino.LoggerOptions['serializers'];
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service },
      redact: { paths: redact, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err, ...opts.serializers },
    },
    opts.destination ?? pino.destination({ sync: false }),
  );
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_LEVEL, read the same way by every service. */
export function readLogLevel(r: EnvReader): string {
  return r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' });
}
