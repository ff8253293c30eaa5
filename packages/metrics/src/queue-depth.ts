import type { Queue } from 'bullmq';

export interface QueueDepth {
  waiting: number;
  prioritized: number;
  paused: boolean;
  rateLimited: boolean;
  /** Jobs really waiting to run: none while the queue is paused or rate-limited. */
  runnable: number;
}

/** What an autoscaler should look at: waiting plus prioritized jobs, if the queue may run them at all. */
export async function queueDepth(queue: Queue): Promise<QueueDepth> {
  const [counts, paused, rateLimitTtl] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized'),
    queue.isPaused(),
    queue.getRateLimitTtl(),
  ]);
  const waiting = counts.waiting ?? 0;
  const prioritized = counts.prioritized ?? 0;
  const rateLimited = rateLimitTtl > 0;
  return { waiting, prioritized, paused, rateLimited, runnable: paused || rateLimited ? 0 : waiting + prioritized };
}
