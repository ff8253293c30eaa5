export { type BackoffSettings, backoffDelay } from './backoff.ts';
export {
  NOTIFICATION_JOB_OPTIONS,
  type NotificationJobData,
  type NotificationType,
  type OutputKind,
  type Owner,
  PRODUCTION_JOB_OPTIONS,
  PRODUCTION_RETENTION,
  type ProductionJobData,
  type ProductionJobResult,
  productionDedupId,
  QUEUES,
  RECONCILE_JOB_NAMES,
  RECONCILE_JOB_OPTIONS,
  type ReconcileJobData,
} from './contract.ts';
export { addNotification, createNotificationQueue, type NotificationQueue } from './notification-queue.ts';
export { OneRunPerJobWorker } from './one-run-per-job-worker.ts';
export { type PendingRepeats, readPendingRepeats } from './pending-repeats.ts';
export {
  addProductionJob,
  addProductionJobId,
  createProductionQueue,
  ProductionJobBatcher,
  type ProductionQueue,
  pendingRepeatsOf,
  releaseIfNotHeld,
  requeueIfNotHeld,
} from './production-queue.ts';
export { addConnectionReconcile, createReconcileQueue, type ReconcileQueue } from './reconcile-queue.ts';
export {
  type ConnectionOptions,
  createProducerConnection,
  createWorkerConnection,
  duplicateForBlocking,
  isCluster,
  pingRedis,
  type RedisConnection,
  untilRedisReady,
} from './redis.ts';
export {
  bridgeKeyPrefix,
  DEFAULT_QUEUE_PREFIX,
  describeRedis,
  hashTag,
  type RedisNode,
  type RedisSettings,
  type RedisTopology,
  readRedisSettings,
} from './settings.ts';
