import { once } from 'node:events';
import type { Server } from 'node:http';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { createRegistry, registerQueueMetrics, type WorkerMetrics, workerMetrics } from '@auphonic-bridge/metrics';
import {
  backoffDelay,
  createProductionQueue,
  createWorkerConnection,
  type ProductionJobData,
  type ProductionJobResult,
  QUEUES,
} from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { createStorage, type StorageDriver } from '@auphonic-bridge/storage';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from './config.ts';
import { credentialsFor } from './credentials.ts';
import { createOpsServer } from './ops-server.ts';
import { createProductionProcessor, RELEASE_ON_SHUTDOWN } from './production-processor.ts';
import { reconcile } from './reconcile.ts';

/** The worker process: takes production jobs and stores their files. */
export class WorkerService implements Service {
  readonly storage: StorageDriver;
  readonly #config: WorkerConfig;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #worker: Worker<ProductionJobData, ProductionJobResult>;
  readonly #ops: Server;
  readonly #metrics: WorkerMetrics;
  readonly #reconcileQueue: Queue;
  readonly #reconciler: Worker;
  #running: Promise<void> | undefined;
  #reconciling: Promise<void> | undefined;

  private constructor(config: WorkerConfig, logger: Logger, storage: StorageDriver) {
    this.#config = config;
    this.#logger = logger;
    this.storage = storage;
    this.#redis = createWorkerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    const registry = createRegistry('worker');
    this.#metrics = workerMetrics(registry, [QUEUES.productions]);
    const metrics = this.#metrics;
    const sources = {
      onResponse: ({ operation, statusCode, ms }: { operation: string; statusCode: number; ms: number }) =>
        metrics.auphonicRequestDuration.observe({ operation, status_code: String(statusCode) }, ms / 1000),
      baseUrl: config.auphonicBaseUrl,
      apiKey: config.auphonicApiKey,
      connections: config.encryptionKey ? new ConnectionStore(this.#redis, new Sealer(config.encryptionKey)) : null,
    };
    const processor = createProductionProcessor(
      {
        credentials: (owner) => credentialsFor(sources, owner),
        storage: this.storage,
        verifyChecksums: config.verifyChecksums,
        downloadResumes: config.downloadResumes,
        onBytes: (n) => metrics.downloadBytes.inc(n),
      },
      logger,
      () => metrics.jobsProcessed.inc({ queue: QUEUES.productions, outcome: 'released' }),
    );
    this.#worker = new Worker(QUEUES.productions, processor, {
      connection: this.#redis,
      autorun: false,
      concurrency: config.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, err) => backoffDelay(attemptsMade, err, config.backoff) },
    });
    this.#worker.on('error', (err) =>
      logger.error({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'worker error'),
    );
    const queue = QUEUES.productions;
    const duration = (job: { processedOn?: number; finishedOn?: number }) =>
      ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
    this.#worker.on('completed', (job) => {
      metrics.jobsProcessed.inc({ queue, outcome: 'completed' });
      metrics.jobDuration.observe({ queue, outcome: 'completed' }, duration(job));
    });
    this.#worker.on('failed', (job, err) => {
      if (!job) return;
      if (err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1)) {
        metrics.jobsProcessed.inc({ queue, outcome: 'failed' });
        metrics.jobDuration.observe({ queue, outcome: 'failed' }, duration(job));
        logger.error({ uuid: job.data.uuid, jobId: job.id, attemptsMade: job.attemptsMade }, `production failed for good: ${err.message}`);
      } else {
        metrics.jobRetries.inc({ queue });
      }
    });
    const observed = createProductionQueue(this.#redis);
    observed.on('error', () => {});
    this.#reconcileQueue = new Queue(QUEUES.reconcile, {
      connection: this.#redis,
      defaultJobOptions: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    });
    this.#reconcileQueue.on('error', () => {});
    this.#reconciler = new Worker(
      QUEUES.reconcile,
      () =>
        reconcile(
          {
            credentials: (owner) => credentialsFor(sources, owner),
            hasAccount: config.auphonicApiKey !== null,
            connections: sources.connections,
            storage,
            queue: observed,
            limit: config.reconcileLimit,
          },
          logger.child({ queue: QUEUES.reconcile }),
        ),
      { connection: this.#redis, autorun: false, concurrency: 1 },
    );
    this.#reconciler.on('error', (err) => logger.error({ err: { message: err.message } }, 'reconciler error'));
    registerQueueMetrics(registry, [observed, this.#reconcileQueue]);
    this.#ops = createOpsServer(registry, async () => this.#redis.status === 'ready' && this.#worker.isRunning());
  }

  static async create(config: WorkerConfig, logger: Logger): Promise<WorkerService> {
    return new WorkerService(config, logger, await createStorage(config.storage));
  }

  /** The ops server's port, once started. */
  get metricsPort(): number {
    return (this.#ops.address() as { port: number }).port;
  }

  /** Checks storage first: a worker that cannot write must not take jobs. */
  async start(): Promise<void> {
    await this.storage.check();
    this.#ops.listen(this.#config.metricsPort, this.#config.metricsHost);
    await once(this.#ops, 'listening');
    this.#running = this.#worker.run();
    await this.#worker.waitUntilReady();
    if (this.#config.reconcileIntervalMs > 0) {
      // Every worker upserts the same scheduler: one reconcile run per interval, whoever takes it.
      await this.#reconcileQueue.upsertJobScheduler('reconcile', { every: this.#config.reconcileIntervalMs }, { name: 'reconcile' });
      this.#reconciling = this.#reconciler.run();
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
      this.#worker.cancelAllJobs(RELEASE_ON_SHUTDOWN);
    }, this.#config.shutdownTimeoutMs);
    try {
      await Promise.all([this.#worker.close(), this.#reconciler.close()]);
      await Promise.all([this.#running, this.#reconciling]);
      await this.#reconcileQueue.close();
    } finally {
      clearTimeout(deadline);
      this.#ops.close();
      this.#ops.closeAllConnections();
      this.#redis.disconnect();
    }
  }
}
