import type { RedisConnection } from '@auphonic-bridge/queue';
import { ConfigError, type Logger } from '@auphonic-bridge/runtime';
import type { IngressConfig } from './config.ts';

/**
 * What a 2xx is worth depends on Redis's persistence and replicas (README: "What a 2xx is
 * worth"): said at start, once. ENQUEUE_WAIT_AOF needs WAITAOF (Redis 7.2): on an older
 * Redis it would refuse every webhook, so the ingress does not start.
 */
export async function warnIfNotDurable(
  redis: RedisConnection,
  config: Pick<IngressConfig, 'enqueueWaitAof' | 'enqueueWaitReplicas'>,
  logger: Logger,
): Promise<void> {
  const waitAof = config.enqueueWaitAof;
  const info = await redis.info('server').catch(() => '');
  const version = /redis_version:(\d+)\.(\d+)/.exec(info);
  if (waitAof && version && (Number(version[1]) < 7 || (Number(version[1]) === 7 && Number(version[2]) < 2))) {
    throw new ConfigError([`ENQUEUE_WAIT_AOF: needs Redis 7.2 or later (WAITAOF); this Redis is ${version[1]}.${version[2]}`]);
  }
  if (config.enqueueWaitReplicas > 0) {
    const replicas = Number(/connected_slaves:(\d+)/.exec(await redis.info('replication').catch(() => ''))?.[1] ?? Number.NaN);
    if (replicas < config.enqueueWaitReplicas) {
      logger.warn(
        { replicas, enqueueWaitReplicas: config.enqueueWaitReplicas },
        'Redis has fewer replicas than ENQUEUE_WAIT_REPLICAS: webhooks are answered 503 until enough of them are connected',
      );
    }
  }
  // Managed Redis services may refuse CONFIG: then nothing is said.
  const [, appendonly] = ((await redis.config('GET', 'appendonly').catch(() => [])) as string[]) ?? [];
  // WAITAOF 1 0 is an error without an AOF: every webhook would be answered 503, its job added.
  if (waitAof && appendonly === 'no') {
    throw new ConfigError([
      'ENQUEUE_WAIT_AOF: this Redis has appendonly no (no AOF to wait for); turn appendonly on, or ENQUEUE_WAIT_AOF off',
    ]);
  }
  if (waitAof) return;
  const [, appendfsync] = ((await redis.config('GET', 'appendfsync').catch(() => [])) as string[]) ?? [];
  if (appendonly === 'no') logger.warn('Redis has appendonly no: acknowledged webhooks are lost if Redis restarts');
  else if (appendonly === 'yes' && appendfsync !== 'always') {
    logger.warn(
      { appendfsync },
      'Redis fsyncs its AOF only every second: a crash may lose webhooks already acknowledged (appendfsync always, or ENQUEUE_WAIT_AOF on Redis 7.2+)',
    );
  }
}
