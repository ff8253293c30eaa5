export type { Registry } from 'prom-client';
export { createRegistry, type IngressMetrics, ingressMetrics, registerQueueMetrics, type WorkerMetrics, workerMetrics } from './metrics.ts';
export { createOpsServer, type JsonRoutes } from './ops-server.ts';
export { type QueueDepth, queueDepth } from './queue-depth.ts';
export { type QueueFigures, QueueStats } from './queue-stats.ts';
