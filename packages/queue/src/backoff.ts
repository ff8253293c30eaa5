export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/** A server's Retry-After is honoured up to this, whatever the backoff's own maximum. */
export const RETRY_AFTER_CEILING_MS = 3_600_000;

/**
 * Exponential backoff with "equal jitter" (half fixed, half random): spreads retries
 * of many jobs that failed together. A server's Retry-After wins when longer
 * (up to an hour), even past the backoff's maximum: it is the server's word.
 */
export function backoffDelay(attemptsMade: number, err: unknown, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  const retryAfter = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfter === 'number' && retryAfter > 0) return Math.max(jittered, Math.min(retryAfter, RETRY_AFTER_CEILING_MS));
  return jittered;
}
