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
  /** Since when each unresponsive receiver has not answered. */
  readonly #unresponsive = new Map<string, number>();
  readonly #onChange: (origin: string, unresponsive: boolean) => void;

  constructor(onChange: (origin: string, unresponsive: boolean) => void = () => {}) {
    this.#onChange = onChange;
  }

  /**
   * Whether an attempt to `origin` may start now; if so, `leave` must follow it. `force`: it
   * starts whatever the receiver's state (an event's last chance is an attempt, not a put-off).
   */
  enter(origin: string, force = false): boolean {
    const inFlight = this.#inFlight.get(origin) ?? 0;
    if (!force && this.#unresponsive.has(origin) && inFlight >= 1) return false;
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
      else this.#unresponsive.set(origin, Date.now());
      this.#onChange(origin, !answered);
    }
  }

  /** How long the receiver has not answered (0 when it answers). */
  unresponsiveFor(origin: string, now = Date.now()): number {
    const since = this.#unresponsive.get(origin);
    return since === undefined ? 0 : now - since;
  }
}

/** The longest an event is put off at once while its receiver is unresponsive. */
const MAX_PUT_OFF_MS = 3_600_000;

/**
 * How long an event of an unresponsive receiver is put off: about as long as the receiver has
 * been silent, a timeout at least and an hour at most, jittered. A long outage's backlog then
 * comes back ever more rarely, not every few seconds for a day.
 */
export function putOffMs(silentForMs: number, timeoutMs: number, random = Math.random()): number {
  return Math.round(Math.min(Math.max(silentForMs, timeoutMs), MAX_PUT_OFF_MS) * (0.5 + random));
}
