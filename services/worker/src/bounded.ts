/**
 * Runs `fn` over `items`, at most `limit` at once, the results in the items'
 * order. The first failure cancels the others (through the signal given to
 * each call) and is thrown once every call has settled, so that nothing is
 * still writing when the caller goes on.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  parent?: AbortSignal,
): Promise<R[]> {
  const cancel = new AbortController();
  const onParentAbort = () => cancel.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, cancel.signal);
      } catch (err) {
        failure ??= { err };
        cancel.abort(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (failure) throw failure.err;
  return results;
}
