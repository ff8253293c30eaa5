export type { OAuthAppConfig, SimulatedService, SimulatedUser } from './accounts.ts';
export type { Fault } from './faults.ts';
export type { RequestLogEntry } from './http-util.ts';
export { pseudoRandomBytes, randomUuid } from './ids.ts';
export type {
  AddProductionInput,
  ChapterData,
  OutputFile,
  Production,
  ProductionPatch,
  SimulatedChapter,
  SimulatedFile,
  SimulatedImage,
} from './productions.ts';
export { AuphonicSimulator, type SimulatorOptions } from './simulator.ts';
export { STATUS_STRINGS } from './statuses.ts';
export type { SimulatedPreset } from './webhook-routes.ts';
export { sendServiceWebhook, sendWebhook, signJwt, type WebhookDelivery } from './webhook-sender.ts';
