import { AuphonicClient } from '@auphonic-bridge/auphonic';
import { backoffDelay, createWorkerConnection, type ProductionJobData, type ProductionJobResult, QUEUES } from '@auphonic-bridge/queue';
import type { Logger, Service } from '@auphonic-bridge/runtime';
import { DirectoryDriver, type StorageDriver } from '@auphonic-bridge/storage';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from './config.ts';
import { createProductionProcessor, RELEASE_ON_SHUTDOWN } from './production-processor.ts';

/** The worker process: takes production jobs and stores their files. */
export class WorkerService implements Service {
  readonly storage: StorageDriver;
  readonly #config: WorkerConfig;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #worker: Worker<ProductionJobData, ProductionJobResult>;
  #running: Promise<void> | undefined;

  private constructor(config: WorkerConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.storage = new DirectoryDriver(config.storageDir, { setting: 'STORAGE_DIR' });
    const client = new AuphonicClient({ baseUrl: config.auphonicBaseUrl, token: config.auphonicApiKey });
    this.#redis = createWorkerConnection(config.redisUrl);
    this.#redis.on('error', (err: NodeJS.ErrnoException) => logger.warn({ code: err.code }, 'redis connection problem'));
    const processor = createProductionProcessor(
      { client, storage: this.storage, verifyChecksums: config.verifyChecksums, downloadResumes: config.downloadResumes },
      logger,
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
    this.#worker.on('failed', (job, err) => {
      if (job && (err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1))) {
        logger.error({ uuid: job.data.uuid, jobId: job.id, attemptsMade: job.attemptsMade }, `production failed for good: ${err.message}`);
      }
    });
  }

  static create(config: WorkerConfig, logger: Logger): WorkerService {
    return new WorkerService(config, logger);
  }

  /** Checks storage first: a worker that cannot write must not take jobs. */
  async start(): Promise<void> {
    await this.storage.check();
    this.#running = this.#worker.run();
    await this.#worker.waitUntilReady();
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
      await this.#worker.close();
      await this.#running;
    } finally {
      clearTimeout(deadline);
      this.#redis.disconnect();
    }
  }
}
