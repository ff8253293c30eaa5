import { createProducerConnection, describeRedis, type RedisConnection, type RedisSettings } from '@auphonic-bridge/queue';
import { CommandError } from './errors.ts';

/** How long the CLI waits for Redis before it says it cannot reach it. */
const READY_WITHIN_MS = 3_000;

/**
 * A Redis connection as the ingress makes one (fails fast rather than queueing commands),
 * ready before the command runs, closed after. No password is ever shown.
 */
export async function withRedis<T>(settings: RedisSettings, work: (redis: RedisConnection) => Promise<T>): Promise<T> {
  const redis = createProducerConnection(settings);
  // What Redis said when it refused us (a wrong password): a reason the operator can act on, never the password.
  let refusal: string | undefined;
  redis.on('error', (err: Error) => {
    if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(err.message)) refusal = err.message.split(' ')[0];
  });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_WITHIN_MS);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ready && refusal) {
      throw new CommandError(
        'ERR_REDIS_UNAVAILABLE',
        `${describeRedis(settings)} refused the credentials (${refusal}): check REDIS_PASSWORD, or the password in REDIS_URL`,
      );
    }
    if (!ready) {
      throw new CommandError('ERR_REDIS_UNAVAILABLE', `cannot reach ${describeRedis(settings)} within ${READY_WITHIN_MS / 1000} s`);
    }
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
