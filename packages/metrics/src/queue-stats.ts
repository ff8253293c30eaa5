import type { Queue } from 'bullmq';
import { type QueueDepth, queueDepth } from './queue-depth.ts';

export const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

/** What the queue gauges and /queue-depth show of one queue, read from Redis at once. */
export interface QueueFigures {
  counts: Record<(typeof JOB_STATES)[number], number>;
  depth: QueueDepth;
  oldestWaitingSeconds: number;
  workers: number;
}

/**
 * The queues' figures, read from Redis at most once per `ttlMs` however many
 * scrapes and autoscaler polls ask (several calls each, CLIENT LIST among
 * them, on the Redis that enqueueing needs); callers meanwhile share one read.
 */
export class QueueStats {
  readonly queues: readonly Queue[];
  readonly #ttlMs: number;
  #cached: { at: number; figures: Promise<Map<string, QueueFigures>> } | undefined;

  constructor(queues: readonly Queue[], opts: { ttlMs?: number } = {}) {
    this.queues = queues;
    this.#ttlMs = opts.ttlMs ?? 1000;
  }

  get(now = Date.now()): Promise<Map<string, QueueFigures>> {
    if (this.#cached && now - this.#cached.at < this.#ttlMs) return this.#cached.figures;
    const figures = read(this.queues);
    this.#cached = { at: now, figures };
    // A failed read is not kept: the next caller tries again.
    figures.catch(() => {
      if (this.#cached?.figures === figures) this.#cached = undefined;
    });
    return figures;
  }
}

async function read(queues: readonly Queue[]): Promise<Map<string, QueueFigures>> {
  const entries = await Promise.all(
    queues.map(async (q): Promise<[string, QueueFigures]> => {
      const [counts, depth, [oldest], workers] = await Promise.all([
        q.getJobCounts(...JOB_STATES),
        queueDepth(q),
        q.getJobs(['waiting', 'prioritized'], 0, 0, true),
        q.getWorkersCount(),
      ]);
      const byState = Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as QueueFigures['counts'];
      const oldestWaitingSeconds = oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0;
      return [q.name, { counts: byState, depth, oldestWaitingSeconds, workers }];
    }),
  );
  return new Map(entries);
}
