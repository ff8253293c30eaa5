import { Queue } from 'bullmq';
import { NOTIFICATION_JOB_OPTIONS, type NotificationJobData, QUEUES } from './contract.ts';
import type { RedisConnection } from './redis.ts';

export type NotificationQueue = Queue<NotificationJobData>;

export function createNotificationQueue(connection: RedisConnection, opts: { prefix?: string } = {}): NotificationQueue {
  const queue: NotificationQueue = new Queue(QUEUES.notifications, {
    connection,
    prefix: opts.prefix,
    defaultJobOptions: NOTIFICATION_JOB_OPTIONS,
  });
  // Callers see failures on add(); without a listener an 'error' event would crash the process.
  queue.on('error', () => {});
  return queue;
}

/** Once per event: its webhook-id is the job id, so the same event queued again adds nothing while it is kept. */
export function addNotification(queue: NotificationQueue, event: NotificationJobData) {
  return queue.add(event.type, event, { jobId: event.id });
}
