import { type Job, Worker } from 'bullmq';

/** How long a retake waits in the delayed set for this process's earlier run of it to end. */
const RETAKE_DELAY_MS = 1_000;

/**
 * A BullMQ Worker that never runs a job twice at once in one process.
 *
 * A run that lost its lock (Redis silent, the loop stalled) is cancelled and
 * unwinds; meanwhile the stalled checker may hand the same job back to this
 * very worker. BullMQ tracks lock renewals by job id only, so when the old
 * run ended it untracked the new one: that lock was never renewed, expired,
 * and another worker took the job while this one still wrote its files. Here
 * such a retake is not run: it goes back to the queue, delayed a moment (no
 * attempt counted), until the earlier run, BullMQ's handling of it included,
 * is over. Nothing of it runs meanwhile, so nothing needs its lock renewed or
 * its cancellation.
 */
export class OneRunPerJobWorker<D = unknown, R = unknown> extends Worker<D, R> {
  readonly #runs = new Map<string, Promise<unknown>>();
  /** Before BullMQ fails a job without running it (stalled past maxStalledCount): the processor never sees it. */
  beforeUnrunFailure: ((job: Job<D, R>) => Promise<unknown>) | undefined;

  override async processJob(job: Job<D, R>, token: string, fetchNextCallback?: () => boolean): ReturnType<Worker<D, R>['processJob']> {
    const id = job.id ?? '';
    if (this.#runs.has(id)) {
      // Refused (and left to the stalled checker) if the lock is gone already.
      await job.moveToDelayed(Date.now() + RETAKE_DELAY_MS, token).catch(() => {});
      return undefined;
    }
    if (job.deferredFailure) await this.beforeUnrunFailure?.(job).catch(() => {});
    const run = super.processJob(job, token, fetchNextCallback);
    this.#runs.set(id, run);
    try {
      return await run;
    } finally {
      this.#runs.delete(id);
    }
  }
}
