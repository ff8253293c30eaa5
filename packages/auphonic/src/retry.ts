import { setTimeout as sleep } from 'node:timers/promises';
import { AuphonicError } from './errors.ts';

/**
 * Quick retries inside one job attempt, for idempotent requests (production
 * details, lists, downloads resumed with Range). They ride out a flaky
 * moment in seconds; longer outages are the job backoff's (minutes to days).
 */
export interface QuickRetryPolicy {
  /** Retries after the first try; 0 turns them off. */
  retries: number;
  baseMs: number;
  maxMs: number;
  /** A server's Retry-After up to this is waited out here; a longer one ends the attempt (the job backoff honours it). */
  retryAfterCapMs: number;
}

export const DEFAULT_QUICK_RETRIES: QuickRetryPolicy = { retries: 4, baseMs: 200, maxMs: 3_000, retryAfterCapMs: 10_000 };

/** Exponential with full jitter: many requests that failed together do not come back together. */
export function quickDelay(retry: number, policy: QuickRetryPolicy, err: unknown, random: () => number = Math.random): number | null {
  const retryAfter = err instanceof AuphonicError ? err.retryAfterMs : undefined;
  if (retryAfter !== undefined && retryAfter > policy.retryAfterCapMs) return null;
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  return Math.max(retryAfter ?? 0, Math.round(random() * ceiling));
}

export function isRetryable(err: unknown): boolean {
  return err instanceof AuphonicError && err.retryable;
}

/** Runs `fn` until it succeeds, fails for good, or the quick retries are spent. */
export async function withQuickRetries<T>(
  fn: () => Promise<T>,
  policy: QuickRetryPolicy,
  opts: { signal?: AbortSignal; onRetry?: (err: AuphonicError, delayMs: number) => void } = {},
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      if (retry >= policy.retries || opts.signal?.aborted || !isRetryable(err)) throw err;
      const delay = quickDelay(retry, policy, err);
      if (delay === null) throw err;
      opts.onRetry?.(err as AuphonicError, delay);
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}

/** The wait before a body cut mid-way continues (its `resumes`-th time): doubling from 0.5 s, at most 5 s. */
export function resumeDelay(resumes: number): number {
  return Math.min(250 * 2 ** resumes, 5_000);
}
