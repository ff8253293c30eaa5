export { AuphonicClient, type AuphonicClientOptions, DEFAULT_USER_AGENT, type DownloadResponse, networkError } from './client.ts';
export { AuphonicError, type AuphonicErrorCode, errorForStatus, parseRetryAfter } from './errors.ts';
export { isProductionUuid, isSafeFilename, UUID_PATTERN } from './ids.ts';
export { outcomeOf, type ProductionOutcome, ProductionStatus } from './statuses.ts';
export type { Envelope, OutputFile, Production } from './types.ts';
