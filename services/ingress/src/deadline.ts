/**
 * Deadlines for many short waits at the cost of one timer: a webhook's
 * enqueue registers its deadline, and a sweep (every `granularityMs`) fails
 * the late ones. A timer per request (AbortSignal.timeout, setTimeout) costs
 * more than the Redis add it guards, under load.
 */
export class Deadlines {
  readonly #pending = new Set<{ at: number; fail: () => void }>();
  readonly #granularityMs: number;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(granularityMs = 50) {
    this.#granularityMs = granularityMs;
  }

  /** `work`'s outcome, or a rejection with `late()` once `ms` have passed. */
  within<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { at: Date.now() + ms, fail: () => reject(late()) };
      this.#pending.add(entry);
      this.#sweeper ??= setInterval(() => this.#sweep(), this.#granularityMs).unref();
      work.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.#pending.delete(entry);
          reject(err);
        },
      );
    });
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.at > now) continue;
      this.#pending.delete(entry);
      entry.fail();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
