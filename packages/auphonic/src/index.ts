export { readAuphonicBaseUrl } from './base-url.ts';
export {
  AuphonicClient,
  type AuphonicClientOptions,
  type AuphonicService,
  type AuphonicUser,
  DEFAULT_USER_AGENT,
  type OpenedDownload,
  type PresetWebhooks,
  type ProductionSummary,
  type ResponseObserver,
} from './client.ts';
export { type Downloaded, DownloadMismatchError, type DownloadRequest, type DownloadSink, downloadInto } from './download.ts';
export { AuphonicError, type AuphonicErrorCode, isCredentialRefusal, parseRetryAfter } from './errors.ts';
export { isProductionUuid, isSafeFilename, PRODUCTION_ID_PATTERN, UUID_PATTERN } from './ids.ts';
export { authorizeUrl, exchangeCode, type OAuthApp } from './oauth.ts';
export { DEFAULT_QUICK_RETRIES, type QuickRetryPolicy, withQuickRetries } from './retry.ts';
export { type RangeSink, SplitDownload } from './split-download.ts';
export { outcomeOf, type ProductionOutcome, ProductionStatus } from './statuses.ts';
export type { Envelope, OutputFile, Production } from './types.ts';
