import { type Logger, pino } from 'pino';
import type { EnvReader } from './env.ts';
import { stdoutDestination } from './log-destination.ts';
import { redactLogFields } from './log-redaction.ts';
import { isoTimeField } from './log-time.ts';

export type { Logger } from 'pino';

export function createLogger(opts: {
  service: string;
  level: string;
  destination?: pino.DestinationStream;
  serializers?: pino.LoggerOptions['serializers'];
}): Logger {
  const logger = pino(
    {
      level: opts.level,
      base: { service: opts.service },
      // Credentials at a line's top level and one level down (log-redaction.ts says why not pino's redact).
      formatters: { log: redactLogFields },
      timestamp: isoTimeField,
      serializers: { err: pino.stdSerializers.err, ...opts.serializers },
    },
    opts.destination ?? stdoutDestination(),
  );
  // pino's bindings formatter does not apply to children: their bindings are redacted here
  // (children are made from their parent, so they inherit this child() too).
  type ChildFn = (this: unknown, bindings: pino.Bindings, options?: object) => unknown;
  const child = logger.child as unknown as ChildFn;
  logger.child = function (this: unknown, bindings: pino.Bindings, options?: object) {
    return child.call(this, redactLogFields(bindings), options);
  } as unknown as Logger['child'];
  return logger;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_LEVEL, read the same way by every service. */
export function readLogLevel(r: EnvReader): string {
  return r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' });
}
