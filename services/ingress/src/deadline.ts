/** A wait that has not settled: a link of the list the sweep walks. */
interface Entry {
  at: number;
  fail: () => void;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * Deadlines for many short waits at the cost of one timer: a webhook's
 * enqueue registers its deadline, and a sweep (every `granularityMs`) fails
 * the late ones. A timer per request (AbortSignal.timeout, setTimeout) costs
 * more than the Redis add it guards, under load.
 *
 * The waits are a linked list, not a Set: a Set's table is reallocated as it
 * churns, and a dropped table that had reached the old generation still
 * pointed at young entries, which every scavenge then kept alive and promoted
 * with all they held (about 0.5 KB a webhook, scavenges 2-3× as long). A link
 * taken out forgets its neighbours, so a promoted one holds nothing either.
 */
export class Deadlines {
  #head: Entry | undefined;
  #tail: Entry | undefined;
  readonly #granularityMs: number;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(granularityMs = 50) {
    this.#granularityMs = granularityMs;
  }

  /** `work`'s outcome, or a rejection with `late()` once `ms` have passed. */
  within<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { at: Date.now() + ms, fail: () => reject(late()), prev: this.#tail, next: undefined };
      if (this.#tail) this.#tail.next = entry;
      else this.#head = entry;
      this.#tail = entry;
      this.#sweeper ??= setInterval(() => this.#sweep(), this.#granularityMs).unref();
      work.then(
        (value) => {
          this.#remove(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.#remove(entry);
          reject(err);
        },
      );
    });
  }

  /** Waits in progress. */
  get size(): number {
    let n = 0;
    for (let e = this.#head; e; e = e.next) n += 1;
    return n;
  }

  #remove(entry: Entry): void {
    // Out already (failed by a sweep): its links were cleared, and it is neither head nor tail.
    if (entry.prev === undefined && entry.next === undefined && this.#head !== entry) return;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    for (let entry = this.#head; entry; ) {
      const next = entry.next;
      if (entry.at <= now) {
        this.#remove(entry);
        entry.fail();
      }
      entry = next;
    }
    if (!this.#head) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
