export { explainStorageError, readStorageSettings, type StorageSettings } from './storage.ts';
export { type ProductionWebhookSettings, readProductionWebhookUrls } from './webhook-urls.ts';
