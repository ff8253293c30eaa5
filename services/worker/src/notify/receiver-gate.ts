/**
 * Keeps one unresponsive receiver from taking every delivery slot. The slots
 * (NOTIFY_CONCURRENCY) are shared by every receiver: the account's endpoint
 * and each connection's own. A receiver that stops answering holds a slot
 * for the whole timeout on each attempt, so its backlog alone would hold
 * them all, and every other receiver's events would wait behind it.
 *
 * A receiver (by origin) whose attempt got no answer in time is unresponsive
 * until one of its attempts gets an answer, any status: meanwhile it has one
 * attempt in flight in this process, and its other events are put off.
 * Receivers that answer, fast or with errors, are not limited: the common
 * case, one busy endpoint, keeps every slot. Per process, as the slots are.
 */
export class ReceiverGate {
  readonly #inFlight = new Map<string, number>();
  readonly #unresponsive = new Set<string>();
  readonly #onChange: (origin: string, unresponsive: boolean) => void;

  constructor(onChange: (origin: string, unresponsive: boolean) => void = () => {}) {
    this.#onChange = onChange;
  }

  /** Whether an attempt to `origin` may start now; if so, `leave` must follow it. */
  enter(origin: string): boolean {
    const inFlight = this.#inFlight.get(origin) ?? 0;
    if (this.#unresponsive.has(origin) && inFlight >= 1) return false;
    this.#inFlight.set(origin, inFlight + 1);
    return true;
  }

  /** An attempt ended: it got an answer (any status), none in time, or neither (null: a refused connection). */
  leave(origin: string, answered: boolean | null): void {
    const left = (this.#inFlight.get(origin) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(origin, left);
    else this.#inFlight.delete(origin);
    if (answered !== null && answered === this.#unresponsive.has(origin)) {
      if (answered) this.#unresponsive.delete(origin);
      else this.#unresponsive.add(origin);
      this.#onChange(origin, !answered);
    }
  }
}
