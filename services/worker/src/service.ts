import { once } from 'node:events';
import type { Server } from 'node:http';
import { registerQueueMetrics } from '@auphonic-bridge/metrics';
import {
  backoffDelay,
  OneRunPerJobWorker,
  PRODUCTION_RETENTION,
  type ProductionJobData,
  type ProductionJobResult,
  QUEUES,
  readPendingRepeats,
  releaseIfNotHeld,
  requeueIfNotHeld,
} from '@auphonic-bridge/queue';
import { ConfigError, type Logger, type Service } from '@auphonic-bridge/runtime';
import { explainStorageError } from '@auphonic-bridge/settings';
import type { StorageDriver } from '@auphonic-bridge/storage';
import type { WorkerConfig } from './config.ts';
import { fromConfig, type WorkerContext, type WorkerOverrides } from './context.ts';
import type { IngestDeps } from './ingest-production.ts';
import { observeJobs } from './job-metrics.ts';
import { createNotifier } from './notify/notifier.ts';
import { createOpsServer } from './ops-server.ts';
import { CANCEL, createProductionProcessor, recordStalledFailures } from './production-job.ts';
import { createReconciler } from './reconciler.ts';
import { watchRedis } from './redis-watchdog.ts';

/** The worker process: takes production jobs and stores their files; start and stop only (the parts come from context.ts). */
export class WorkerService implements Service {
  readonly #ctx: WorkerContext;
  readonly #worker: OneRunPerJobWorker<ProductionJobData, ProductionJobResult>;
  readonly #ops: Server;
  readonly #reconciler: ReturnType<typeof createReconciler>;
  readonly #notifier: ReturnType<typeof createNotifier> | null;
  #running: Promise<void> | undefined;
  #unwatch: () => void;

  private constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
    const { config, logger, metrics, storage, credentials, progress, productions, redis } = ctx;
    this.#notifier = config.notify
      ? createNotifier(redis, {
          queue: ctx.notifications,
          settings: config.notify,
          connections: ctx.connections,
          logger,
          prefix: config.redis.prefix,
          backoff: { baseMs: config.backoff.baseMs, maxMs: 3_600_000 },
          onOutcome: (outcome) => metrics.notificationsSent.inc({ outcome }),
        })
      : null;
    const notifier = this.#notifier;
    const ingest = {
      credentials,
      storage,
      verifyChecksums: config.verifyChecksums,
      publicFilesUrl: config.publicFilesUrl,
      onRecorded: notifier ? (record) => notifier.recorded(record) : undefined,
      downloadResumes: config.downloadResumes,
      downloadConcurrency: config.downloadConcurrency,
      splitMinBytes: config.downloadSplitMinBytes,
      onBytes: (n: number) => metrics.downloadBytes.inc(n),
    } satisfies IngestDeps;
    const onRecorded = (outcome: ProductionJobResult['outcome']) => metrics.productionsRecorded.inc({ outcome });
    const processor = createProductionProcessor(ingest, logger, {
      retryForMs: config.retryForMs,
      progress,
      onRelease: () => metrics.jobsProcessed.inc({ queue: QUEUES.productions, outcome: 'released' }),
      onRecorded,
      pending: (job) => readPendingRepeats(redis, job),
      requeueIfNotHeld: (job) => requeueIfNotHeld(productions, job),
    });
    this.#worker = new OneRunPerJobWorker(QUEUES.productions, processor, {
      connection: redis,
      prefix: config.redis.prefix,
      autorun: false,
      concurrency: config.concurrency,
      // A dead worker's jobs are taken over within about lockDuration + stalledInterval.
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      // A job that keeps killing its worker (out of memory, say) fails for good after this many takeovers.
      maxStalledCount: 5,
      ...PRODUCTION_RETENTION,
      settings: { backoffStrategy: (attemptsMade, _type, err) => backoffDelay(attemptsMade, err, config.backoff) },
    });
    // One retried by hand lets go of the deduplication id it carries, which BullMQ's failing it would act on.
    this.#worker.beforeUnrunFailure = (job) => releaseIfNotHeld(productions, job);
    // Lost its lock (Redis away, the loop stalled): another worker may hold the job now, so stop writing its files.
    this.#worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const id of jobIds) this.#worker.cancelJob(id, CANCEL.lockLost);
    });
    // The same when Redis is silent that long: the renewals are only waiting then (redis-watchdog.ts).
    this.#unwatch = watchRedis(redis, {
      silentMs: config.lockDurationMs,
      onSilent: (silentForMs) => {
        logger.warn({ silentForMs }, "Redis has not answered for LOCK_DURATION_MS: this worker's locks have expired; its jobs are stopped");
        this.#worker.cancelAllJobs(CANCEL.lockLost);
      },
    });
    observeJobs(this.#worker, metrics, logger);
    this.#worker.on('failed', recordStalledFailures(ingest, logger, { onRecorded }));
    this.#reconciler = createReconciler(
      redis,
      {
        credentials,
        hasAccount: config.auphonicApiKey !== null,
        accountWebhookUrls: config.accountWebhookUrls,
        connections: ctx.connections,
        storage,
        queue: productions,
        redis,
        keyPrefix: ctx.keyPrefix,
        pageSize: config.reconcileLimit,
        lookbackMs: config.reconcileLookbackMs,
        onRecovered: (owner) => metrics.reconcileRecovered.inc({ owner_kind: owner.kind }),
        onSkipped: (owner) => metrics.reconcileSkipped.inc({ owner_kind: owner.kind }),
      },
      logger,
      { prefix: config.redis.prefix, onSwept: (n) => metrics.storageSwept.inc(n) },
    );
    registerQueueMetrics(ctx.registry, [productions, this.#reconciler.queue, ctx.notifications]);
    this.#ops = createOpsServer(ctx.registry, async () => {
      const stuck = progress.stuck(config.noProgressMs);
      if (stuck.length > 0) return { ready: false, reason: `job(s) ${stuck.join(', ')} made no progress for ${config.noProgressMs} ms` };
      return { ready: redis.status === 'ready' && this.#worker.isRunning(), reason: 'redis unreachable or worker not running' };
    });
  }

  static async create(config: WorkerConfig, logger: Logger, overrides: WorkerOverrides = {}): Promise<WorkerService> {
    return new WorkerService(await fromConfig(config, logger, overrides));
  }

  get storage(): StorageDriver {
    return this.#ctx.storage;
  }

  /** The ops server's port, once started. */
  get metricsPort(): number {
    return (this.#ops.address() as { port: number }).port;
  }

  /** Checks storage first (and sweeps what dead workers left): a worker that cannot write must not take jobs. */
  async start(): Promise<void> {
    const { config, logger, storage } = this.#ctx;
    try {
      await storage.check();
    } catch (err) {
      const explained = explainStorageError(err, config.storage);
      // Storage the settings point at wrongly is a bad setting (exit 78); storage away for now is not.
      const misconfigured = explained !== err && (explained as { code?: string }).code !== 'ERR_STORAGE_UNREACHABLE';
      throw misconfigured ? new ConfigError([(explained as Error).message]) : explained;
    }
    this.#ops.listen(config.metricsPort, config.metricsHost);
    await once(this.#ops, 'listening');
    this.#running = this.#worker.run();
    await this.#worker.waitUntilReady();
    await this.#reconciler.start(config.reconcileIntervalMs);
    this.#notifier?.start();
    if (config.auphonicApiKey && config.accountWebhookUrls.length === 0 && config.reconcileIntervalMs > 0) {
      logger.warn("the reconciler cannot tell the account's productions from others: set PUBLIC_URL and WEBHOOK_SECRET on the worker");
    }
    logger.info({ queue: QUEUES.productions, concurrency: config.concurrency, storage: storage.description }, 'worker ready');
  }

  /**
   * Takes no new jobs and waits for active ones; past the deadline, cancels
   * them, which deletes their temporary files and puts them back in the queue.
   */
  async destroy(): Promise<void> {
    const { config, logger, productions, redis } = this.#ctx;
    this.#unwatch();
    const deadline = setTimeout(() => {
      logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached; releasing active jobs');
      this.#worker.cancelAllJobs(CANCEL.shutdown);
    }, config.shutdownTimeoutMs);
    try {
      await Promise.all([this.#worker.close(), this.#reconciler.close(), this.#notifier?.close()]);
      await this.#running;
      await productions.close();
      await this.#ctx.notifications.close();
    } finally {
      clearTimeout(deadline);
      this.#ops.close();
      this.#ops.closeAllConnections();
      redis.disconnect();
    }
  }
}
