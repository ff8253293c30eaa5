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
import { createProductionProcessor, RELEASE_ON_SHUTDOWN } from './production-processor.ts';
import { createReconciler } from './reconcile.ts';

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
      () => metrics.jobsProcessed.inc({ queue: QUEUES.productions, outcome: 'released' }),
    );
    this.#worker = new Worker(QUEUES.productions, processor, {
      connection: this.#redis,
      autorun: false,
      concurrency: config.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, err) => backoffDelay(attemptsMade, err, config.backoff) },
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
        connections: sources.connections,
        storage,
        queue: productions,
        limit: config.reconcileLimit,
      },
      logger,
    );
    registerQueueMetrics(registry, [productions, this.#reconciler.queue]);
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
    if (this.#config.reconcileIntervalMs > 0) await this.#reconciler.start(this.#config.reconcileIntervalMs);
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
