import { once } from 'node:events';
import type { Server } from 'node:http';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { createRegistry, registerQueueMetrics, workerMetrics } from '@auphonic-bridge/metrics';
import {
  backoffDelay,
  createProductionQueue,
  createWorkerConnection,
  type Owner,
  type ProductionJobData,
  type ProductionJobResult,
  type ProductionQueue,
  QUEUES,
} from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { createStorage, type StorageDriver } from '@auphonic-bridge/storage';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from './config.ts';
import { credentialsFor } from './credentials.ts';
import { observeJobs } from './job-metrics.ts';
import { createOpsServer } from './ops-server.ts';
import { CANCEL, createProductionProcessor } from './production-job.ts';
import { ProgressWatch } from './progress-watch.ts';
import { createReconciler } from './reconciler.ts';

/** The worker process: takes production jobs and stores their files. */
export class WorkerService implements Service {
  readonly storage: StorageDriver;
  readonly #config: WorkerConfig;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #worker: Worker<ProductionJobData, ProductionJobResult>;
  readonly #ops: Server;
  readonly #queues: ProductionQueue[];
  readonly #reconciler: ReturnType<typeof createReconciler>;
  readonly #progress = new ProgressWatch();
  #running: Promise<void> | undefined;

  private constructor(config: WorkerConfig, logger: Logger, storage: StorageDriver) {
    this.#config = config;
    this.#logger = logger;
    this.storage = storage;
    this.#redis = createWorkerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    const registry = createRegistry('worker');
    const metrics = workerMetrics(registry, [QUEUES.productions]);
    const sources = {
      baseUrl: config.auphonicBaseUrl,
      apiKey: config.auphonicApiKey,
      connections: config.encryptionKey ? new ConnectionStore(this.#redis, new Sealer(config.encryptionKey)) : null,
      retries: { retries: config.requestRetries, baseMs: 200, maxMs: 3_000, retryAfterCapMs: 10_000 },
      onResponse: ({ operation, statusCode, ms }: { operation: string; statusCode: number; ms: number }) =>
        metrics.auphonicRequestDuration.observe({ operation, status_code: String(statusCode) }, ms / 1000),
    };
    const credentials = (owner: Owner) => credentialsFor(sources, owner);

    const processor = createProductionProcessor(
      {
        credentials,
        storage,
        verifyChecksums: config.verifyChecksums,
        downloadResumes: config.downloadResumes,
        onBytes: (n) => metrics.downloadBytes.inc(n),
      },
      logger,
      {
        retryForMs: config.retryForMs,
        progress: this.#progress,
        onRelease: () => metrics.jobsProcessed.inc({ queue: QUEUES.productions, outcome: 'released' }),
        onRecorded: (outcome) => metrics.productionsRecorded.inc({ outcome }),
      },
    );
    this.#worker = new Worker(QUEUES.productions, processor, {
      connection: this.#redis,
      autorun: false,
      concurrency: config.concurrency,
      // A dead worker's jobs are taken over within about lockDuration + stalledInterval.
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      // A job that keeps killing its worker (out of memory, say) fails for good after this many takeovers.
      maxStalledCount: 5,
      settings: { backoffStrategy: (attemptsMade, _type, err) => backoffDelay(attemptsMade, err, config.backoff) },
    });
    // Lost its lock (Redis away, the loop stalled): another worker may hold the job now, so stop writing its files.
    this.#worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const id of jobIds) this.#worker.cancelJob(id, CANCEL.lockLost);
    });
    observeJobs(this.#worker, metrics, logger);

    const productions = createProductionQueue(this.#redis);
    productions.on('error', () => {});
    this.#queues = [productions];
    this.#reconciler = createReconciler(
      this.#redis,
      {
        credentials,
        hasAccount: config.auphonicApiKey !== null,
        accountWebhookUrls: config.accountWebhookUrls,
        connections: sources.connections,
        storage,
        queue: productions,
        redis: this.#redis,
        pageSize: config.reconcileLimit,
        lookbackMs: config.reconcileLookbackMs,
        onRecovered: (owner) => metrics.reconcileRecovered.inc({ owner_kind: owner.kind }),
      },
      logger,
      { onSwept: (n) => metrics.storageSwept.inc(n) },
    );
    registerQueueMetrics(registry, [productions, this.#reconciler.queue]);
    this.#ops = createOpsServer(registry, async () => {
      const stuck = this.#progress.stuck(config.noProgressMs);
      if (stuck.length > 0) return { ready: false, reason: `job(s) ${stuck.join(', ')} made no progress for ${config.noProgressMs} ms` };
      return { ready: this.#redis.status === 'ready' && this.#worker.isRunning(), reason: 'redis unreachable or worker not running' };
    });
  }

  static async create(config: WorkerConfig, logger: Logger): Promise<WorkerService> {
    return new WorkerService(config, logger, await createStorage(config.storage));
  }

  /** The ops server's port, once started. */
  get metricsPort(): number {
    return (this.#ops.address() as { port: number }).port;
  }

  /** Checks storage first (and sweeps what dead workers left): a worker that cannot write must not take jobs. */
  async start(): Promise<void> {
    await this.storage.check();
    this.#ops.listen(this.#config.metricsPort, this.#config.metricsHost);
    await once(this.#ops, 'listening');
    this.#running = this.#worker.run();
    await this.#worker.waitUntilReady();
    await this.#reconciler.start(this.#config.reconcileIntervalMs);
    if (this.#config.auphonicApiKey && this.#config.accountWebhookUrls.length === 0 && this.#config.reconcileIntervalMs > 0) {
      this.#logger.warn(
        "the reconciler cannot tell the account's productions from others: set PUBLIC_URL and WEBHOOK_SECRET on the worker",
      );
    }
    this.#logger.info(
      { queue: QUEUES.productions, concurrency: this.#config.concurrency, storage: this.storage.description },
      'worker ready',
    );
  }

  /**
   * Takes no new jobs and waits for active ones; past the deadline, cancels
   * them, which deletes their temporary files and puts them back in the queue.
   */
  async destroy(): Promise<void> {
    const deadline = setTimeout(() => {
      this.#logger.warn({ timeoutMs: this.#config.shutdownTimeoutMs }, 'shutdown deadline reached; releasing active jobs');
      this.#worker.cancelAllJobs(CANCEL.shutdown);
    }, this.#config.shutdownTimeoutMs);
    try {
      await Promise.all([this.#worker.close(), this.#reconciler.close()]);
      await this.#running;
      for (const q of this.#queues) await q.close();
    } finally {
      clearTimeout(deadline);
      this.#ops.close();
      this.#ops.closeAllConnections();
      this.#redis.disconnect();
    }
  }
}
