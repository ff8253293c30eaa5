export type { Registry } from 'prom-client';
export { createRegistry, type IngressMetrics, ingressMetrics, registerQueueMetrics, type WorkerMetrics, workerMetrics } from './metrics.ts';
export { type QueueDepth, queueDepth } from './queue-depth.ts';
