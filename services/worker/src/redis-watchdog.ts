import type { RedisConnection } from '@auphonic-bridge/queue';

/**
 * A silent partition, or a Redis that stops answering with its socket open, leaves the
 * connection "ready" and BullMQ's lock renewals waiting: its `lockRenewalFailed` comes only
 * once Redis answers again, long after another worker took the jobs over (within about
 * LOCK_DURATION_MS + STALLED_INTERVAL_MS). So Redis is asked every `intervalMs`; once it has
 * not answered for `silentMs` (LOCK_DURATION_MS: our locks have expired for everyone else),
 * `onSilent` is told, once until Redis answers again. Returns the function that stops it.
 */
export function watchRedis(
  redis: RedisConnection,
  opts: { silentMs: number; onSilent: (silentForMs: number) => void; intervalMs?: number },
): () => void {
  let lastAnswer = Date.now();
  let asking = false;
  let told = false;
  const timer = setInterval(() => {
    const silentFor = Date.now() - lastAnswer;
    if (silentFor >= opts.silentMs && !told) {
      told = true;
      opts.onSilent(silentFor);
    }
    if (asking) return;
    asking = true;
    redis.ping().then(
      () => {
        lastAnswer = Date.now();
        told = false;
        asking = false;
      },
      () => {
        asking = false;
      },
    );
  }, opts.intervalMs ?? 1_000);
  timer.unref();
  return () => clearInterval(timer);
}
