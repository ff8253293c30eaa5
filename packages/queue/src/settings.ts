import type { EnvReader } from '@auphonic-bridge/runtime';

/** Where the queues live, read the same way by every service. */
export interface RedisSettings {
  url: URL;
  /**
   * BullMQ's key prefix (QUEUE_PREFIX). The default, `bull`, is BullMQ's own: keys stay where
   * they always were. Two bridges on one Redis take two prefixes; a Redis Cluster needs a hash
   * tag, e.g. `{bridge}`, so that every key of a queue is in one slot.
   */
  prefix: string;
}

export const DEFAULT_QUEUE_PREFIX = 'bull';

export function readRedisSettings(r: EnvReader): RedisSettings {
  const url = r.url('REDIS_URL', { default: 'redis://127.0.0.1:6379', protocols: ['redis:', 'rediss:'] });
  const prefix = r.string('QUEUE_PREFIX', { default: DEFAULT_QUEUE_PREFIX });
  if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(prefix)) r.problem('QUEUE_PREFIX', 'must be 1 to 64 of A-Z a-z 0-9 _ . - { } (no colon)');
  return { url, prefix };
}

/**
 * The prefix of the bridge's own keys (connections, tokens, watermarks, rate limits), beside
 * BullMQ's: under QUEUE_PREFIX, so that two bridges never share them and a cluster keeps them
 * in the queues' slot. With the default prefix they stay where they always were (`bridge:`).
 */
export function bridgeKeyPrefix(settings: Pick<RedisSettings, 'prefix'>): string {
  return settings.prefix === DEFAULT_QUEUE_PREFIX ? 'bridge:' : `${settings.prefix}:bridge:`;
}
