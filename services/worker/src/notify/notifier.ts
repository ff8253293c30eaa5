import type { ConnectionStore } from '@auphonic-bridge/connections';
import {
  addNotification,
  type BackoffSettings,
  backoffDelay,
  type NotificationJobData,
  type NotificationQueue,
  OneRunPerJobWorker,
  QUEUES,
  type RedisConnection,
} from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { ProductionRecord } from '../record.ts';
import { createDeliveryProcessor, type NotificationOutcome, type NotifySettings, targetOf } from './deliver.ts';
import { notificationFor } from './event.ts';

/**
 * The host's system hears of every production recorded for good: the event
 * is queued on `notifications` (at least once; its own retries and backoff),
 * so a slow or dead endpoint never holds up a download.
 */
export function createNotifier(
  connection: RedisConnection,
  deps: {
    queue: NotificationQueue;
    settings: NotifySettings;
    connections: ConnectionStore | null;
    logger: Logger;
    prefix?: string;
    /** Between tries of one endpoint: from RETRY_BASE_DELAY_MS up to an hour. */
    backoff: BackoffSettings;
    onOutcome?: (outcome: NotificationOutcome) => void;
  },
) {
  const log = deps.logger.child({ queue: QUEUES.notifications });
  const worker = new OneRunPerJobWorker<NotificationJobData>(
    QUEUES.notifications,
    createDeliveryProcessor({ settings: deps.settings, connections: deps.connections, log, onOutcome: deps.onOutcome }),
    {
      connection,
      prefix: deps.prefix,
      autorun: false,
      concurrency: deps.settings.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, err) => backoffDelay(attemptsMade, err, deps.backoff) },
    },
  );
  worker.on('error', (err) => log.error({ err: { message: err.message } }, 'notifications worker error'));
  let running: Promise<void> | undefined;
  return {
    /** Queues the event of a final record, when somebody listens. */
    async recorded(record: ProductionRecord): Promise<void> {
      if (!record.bridge.final || !(await targetOf(deps, record.bridge.owner))) return;
      await addNotification(deps.queue, notificationFor(record));
    },
    start(): void {
      running = worker.run();
    },
    async close(): Promise<void> {
      await worker.close();
      await running;
    },
  };
}
