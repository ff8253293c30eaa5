export {
  AuphonicClient,
  type AuphonicClientOptions,
  type AuphonicService,
  type AuphonicUser,
  DEFAULT_USER_AGENT,
  type DownloadResponse,
  networkError,
  type ProductionSummary,
  type ResponseObserver,
} from './client.ts';
export { AuphonicError, type AuphonicErrorCode, errorForStatus, parseRetryAfter } from './errors.ts';
export { isProductionUuid, isSafeFilename, PRODUCTION_ID_PATTERN, UUID_PATTERN } from './ids.ts';
export { authorizeUrl, exchangeCode, type OAuthApp } from './oauth.ts';
export { outcomeOf, type ProductionOutcome, ProductionStatus } from './statuses.ts';
export type { Envelope, OutputFile, Production } from './types.ts';
