/**
 * When each running job last moved (a chunk stored, a step done): a job
 * silent for too long is stuck (a server that stopped answering, a lost
 * socket), and the worker's /healthz says so.
 */
export class ProgressWatch {
  readonly #lastMoved = new Map<string, number>();

  started(jobId: string, now = Date.now()): void {
    this.#lastMoved.set(jobId, now);
  }

  moved(jobId: string, now = Date.now()): void {
    if (this.#lastMoved.has(jobId)) this.#lastMoved.set(jobId, now);
  }

  finished(jobId: string): void {
    this.#lastMoved.delete(jobId);
  }

  /** Jobs that have not moved for `limitMs`. */
  stuck(limitMs: number, now = Date.now()): string[] {
    return [...this.#lastMoved].filter(([, at]) => now - at > limitMs).map(([id]) => id);
  }
}
