export { EnvReader, parseDuration } from './env.ts';
export { BridgeError, ConfigError } from './errors.ts';
export { healthAnswer, LIVE, type Readiness } from './health.ts';
export { EXIT_CONFIG, runService, type Service } from './lifecycle.ts';
export { createLogger, LOG_LEVELS, type Logger, readLogLevel } from './logger.ts';
export { checkOutboundUrl, guardedLookup, isForbiddenAddress, isPrivateHost, OutboundUrlError } from './outbound-url.ts';
export { REDACTED, redactCredentials, redactString } from './redact.ts';
export { matchesAnySecret, secretMatcher } from './secrets.ts';
export { WEBHOOK_PATHS } from './webhook-paths.ts';
