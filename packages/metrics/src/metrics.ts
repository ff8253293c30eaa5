import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATES, type QueueFigures, QueueStats } from './queue-stats.ts';

const P = 'auphonic_bridge_';

/** A registry with the process metrics every service exposes. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Queue gauges, read from Redis at scrape time through one QueueStats (one
 * read per second at most); pass the one /queue-depth uses, to share it.
 */
export function registerQueueMetrics(registry: Registry, queues: readonly Queue[] | QueueStats): QueueStats {
  const stats = queues instanceof QueueStats ? queues : new QueueStats(queues);
  const each = async (set: (name: string, figures: QueueFigures) => void) => {
    for (const [name, figures] of await stats.get()) set(name, figures);
  };
  new Gauge({
    name: `${P}queue_jobs`,
    help: 'Jobs in each queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      await each((queue, f) => {
        for (const state of JOB_STATES) this.set({ queue, state }, f.counts[state]);
      });
    },
  });
  new Gauge({
    name: `${P}queue_runnable_jobs`,
    help: 'Jobs really waiting to run (waiting + prioritized; 0 while paused or rate-limited)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      await each((queue, f) => this.set({ queue }, f.depth.runnable));
    },
  });
  new Gauge({
    name: `${P}queue_oldest_waiting_seconds`,
    help: 'Age of the oldest job waiting to run',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      await each((queue, f) => this.set({ queue }, f.oldestWaitingSeconds));
    },
  });
  new Gauge({
    name: `${P}queue_workers`,
    help: 'Workers connected to each queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      await each((queue, f) => this.set({ queue }, f.workers));
    },
  });
  return stats;
}

export function ingressMetrics(registry: Registry) {
  const metrics = {
    webhooksReceived: new Counter({
      name: `${P}webhooks_received_total`,
      help: 'Webhook deliveries',
      labelNames: ['route'],
      registers: [registry],
    }),
    webhooksRefused: new Counter({
      name: `${P}webhooks_refused_total`,
      help: 'Webhook deliveries refused, by reason',
      labelNames: ['route', 'reason'],
      registers: [registry],
    }),
  };
  // Series exist from the start, so that increase() sees their first event.
  for (const route of ['production', 'service']) metrics.webhooksReceived.inc({ route }, 0);
  return metrics;
}
export type IngressMetrics = ReturnType<typeof ingressMetrics>;

export function workerMetrics(registry: Registry, queues: string[]) {
  const metrics = {
    jobsProcessed: new Counter({
      name: `${P}jobs_processed_total`,
      help: 'Jobs finished, by outcome (completed, failed, released; requeued: retried by hand, queued anew as another job)',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    }),
    jobRetries: new Counter({
      name: `${P}job_retries_total`,
      help: 'Failed attempts that will be retried',
      labelNames: ['queue'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: `${P}job_duration_seconds`,
      help: 'Time a job ran',
      labelNames: ['queue', 'outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    downloadBytes: new Counter({ name: `${P}download_bytes_total`, help: 'Bytes downloaded from Auphonic', registers: [registry] }),
    productionsRecorded: new Counter({
      name: `${P}productions_recorded_total`,
      help: 'Production records written for good, by outcome (complete, partial, error); unchanged and not-finished too',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    reconcileRecovered: new Counter({
      name: `${P}reconcile_recovered_total`,
      help: 'Finished productions whose webhook never came, queued by the reconciler',
      labelNames: ['owner_kind'],
      registers: [registry],
    }),
    reconcileSkipped: new Counter({
      name: `${P}reconcile_skipped_total`,
      help: 'Owners a reconciler round could not walk (their list or token failed): their missed webhooks wait for a later round',
      labelNames: ['owner_kind'],
      registers: [registry],
    }),
    notificationsSent: new Counter({
      name: `${P}notifications_total`,
      help: "Deliveries of events to the host's system, by outcome (delivered, failed and retried, gone: 410 or refused, given-up, deferred: put off, untried, while its receiver does not answer in time)",
      labelNames: ['outcome'],
      registers: [registry],
    }),
    storageSwept: new Counter({
      name: `${P}storage_swept_total`,
      help: 'Temporary files and multipart uploads of dead workers removed',
      registers: [registry],
    }),
    auphonicRequestDuration: new Histogram({
      name: `${P}auphonic_request_duration_seconds`,
      help: 'Auphonic API calls, by operation and status code',
      labelNames: ['operation', 'status_code'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
  // Series exist from the start, so that increase() sees their first event.
  for (const queue of queues) {
    for (const outcome of ['completed', 'failed', 'released']) metrics.jobsProcessed.inc({ queue, outcome }, 0);
    metrics.jobRetries.inc({ queue }, 0);
  }
  for (const outcome of ['complete', 'partial', 'error']) metrics.productionsRecorded.inc({ outcome }, 0);
  for (const kind of ['account', 'connection']) {
    metrics.reconcileRecovered.inc({ owner_kind: kind }, 0);
    metrics.reconcileSkipped.inc({ owner_kind: kind }, 0);
  }
  for (const outcome of ['delivered', 'failed', 'gone', 'given-up', 'deferred']) metrics.notificationsSent.inc({ outcome }, 0);
  return metrics;
}
export type WorkerMetrics = ReturnType<typeof workerMetrics>;
