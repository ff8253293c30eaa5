export { EnvReader } from './env.ts';
export { BridgeError, ConfigError } from './errors.ts';
export { type Built, runService, type Service } from './lifecycle.ts';
export { createLogger, LOG_LEVELS, type Logger, safeUrl } from './logger.ts';
export { matchesAnySecret } from './secrets.ts';
