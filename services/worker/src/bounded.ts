/** Work an idle slot may take on once every item has been started (a running download's next range). */
export interface IdleWork {
  /** Does one piece of work if there is one now; false when there is none. `idleSlots`: this one and those waiting. */
  run(signal: AbortSignal, idleSlots: number): Promise<boolean>;
  /** Settles when there may be work again. */
  changed(): Promise<void>;
}

/**
 * Runs `fn` over `items`, at most `limit` at once, the results in the items'
 * order. The first failure cancels the others (through the signal given to
 * each call) and is thrown once every call has settled, so that nothing is
 * still writing when the caller goes on. With `idle`, a slot that finds no
 * item left works on that instead, until no item is running.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  parent?: AbortSignal,
  idle?: IdleWork,
): Promise<R[]> {
  const cancel = new AbortController();
  const onParentAbort = () => cancel.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  let running = 0;
  let waiting = 0;
  let failure: { err: unknown } | undefined;
  let itemDone = Promise.withResolvers<void>();
  const cancelled = new Promise<void>((resolve) => cancel.signal.addEventListener('abort', () => resolve(), { once: true }));
  const lane = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      running += 1;
      try {
        results[index] = await fn(items[index] as T, cancel.signal);
      } catch (err) {
        failure ??= { err };
        cancel.abort(err);
      } finally {
        running -= 1;
        itemDone.resolve();
        itemDone = Promise.withResolvers<void>();
      }
    }
    if (!idle) return;
    // `waiting`: idle slots not inside run(), so that slots woken together know of each other.
    waiting += 1;
    while (running > 0 && !failure) {
      try {
        // Taken before looking: a change while run() looks must wake this slot.
        const changed = Promise.race([idle.changed(), itemDone.promise, cancelled]);
        waiting -= 1;
        const worked = await idle.run(cancel.signal, 1 + waiting).finally(() => {
          waiting += 1;
        });
        if (!worked) await changed;
      } catch (err) {
        failure ??= { err };
        cancel.abort(err);
      }
    }
    waiting -= 1;
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (failure) throw failure.err;
  return results;
}
