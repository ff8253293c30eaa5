import { type Job, Worker } from 'bullmq';

/**
 * A BullMQ Worker that never runs a job twice at once in one process.
 *
 * A run that lost its lock (Redis silent, the loop stalled) is cancelled and
 * unwinds; meanwhile the stalled checker may hand the same job back to this
 * very worker. BullMQ tracks lock renewals by job id only, so when the old
 * run ends it untracks the new one: that lock is never renewed, expires, and
 * another worker takes the job while this one still writes its files. Here a
 * retake waits for the earlier run of its id (the whole of BullMQ's handling,
 * its untracking included) before it starts. Were that wait long, the new
 * run's lock may lapse meanwhile; its first renewal then fails and it is
 * cancelled as lock-lost, as any other run would be.
 */
export class OneRunPerJobWorker<D = unknown, R = unknown> extends Worker<D, R> {
  readonly #runs = new Map<string, Promise<unknown>>();

  override async processJob(job: Job<D, R>, token: string, fetchNextCallback?: () => boolean): ReturnType<Worker<D, R>['processJob']> {
    const id = job.id ?? '';
    const earlier = this.#runs.get(id);
    const run = (async () => {
      if (earlier) await earlier.catch(() => {});
      return super.processJob(job, token, fetchNextCallback);
    })();
    this.#runs.set(id, run);
    try {
      return await run;
    } finally {
      if (this.#runs.get(id) === run) this.#runs.delete(id);
    }
  }
}
