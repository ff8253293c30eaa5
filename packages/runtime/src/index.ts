export { EnvReader, parseDuration } from './env.ts';
export { BridgeError, ConfigError } from './errors.ts';
export { EXIT_CONFIG, runService, type Service } from './lifecycle.ts';
export { createLogger, LOG_LEVELS, type Logger } from './logger.ts';
export { REDACTED, redactCredentials, redactString } from './redact.ts';
export { matchesAnySecret } from './secrets.ts';
