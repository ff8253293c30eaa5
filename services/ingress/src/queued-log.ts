import type { Logger } from '@auphonic-bridge/runtime';

/** What the line says of one accepted webhook. */
export interface QueuedWebhook {
  uuid: string;
  reportedStatus: number | null;
}

/**
 * The production webhooks accepted in one turn of the event loop share one
 * line, `production webhooks queued`, naming each (`webhooks`: uuid and the
 * status Auphonic reported). A webhook alone gets a line alone; under load a
 * turn answers ten or more, and a line each cost the ingress about 5 µs a
 * webhook (pino building it, its write, the response listeners of a hook
 * that writes it), the difference between 0.9× and 1.05× the bare handler.
 * Every accepted uuid is still in the log, written when its job is in Redis.
 */
export class QueuedLog {
  readonly #logger: Logger;
  readonly #maxPerLine: number;
  #pending: QueuedWebhook[] = [];
  #scheduled = false;

  constructor(logger: Logger, opts: { maxPerLine?: number } = {}) {
    this.#logger = logger;
    this.#maxPerLine = Math.max(1, opts.maxPerLine ?? 100);
  }

  add(webhook: QueuedWebhook): void {
    this.#pending.push(webhook);
    if (this.#pending.length >= this.#maxPerLine) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // After the turn's other handlers, whose adds settled in the same poll phase.
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is pending now (also at shutdown). */
  flush(): void {
    if (this.#pending.length === 0) return;
    const webhooks = this.#pending;
    this.#pending = [];
    this.#logger.info({ count: webhooks.length, webhooks }, 'production webhooks queued');
  }
}
