// What the ingress says at start about Redis's persistence. Redis 7.2 (WAITAOF) is not on this
// machine (Debian's is 7.0), so a stand-in answers INFO and CONFIG GET as a 7.2 would: a mock
// where the real part cannot run here. The 7.0 refusal runs against a real server in process.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RedisConnection } from '@auphonic-bridge/queue';
import { ConfigError, createLogger } from '@auphonic-bridge/runtime';
import { warnIfNotDurable } from '../src/durability.ts';

const redis72 = (appendonly: 'yes' | 'no') =>
  ({
    info: async () => 'redis_version:7.2.4\r\nconnected_slaves:0\r\n',
    config: async (_get: string, name: string) => (name === 'appendonly' ? ['appendonly', appendonly] : [name, 'everysec']),
  }) as unknown as RedisConnection;
const logger = createLogger({ service: 'test', level: 'silent' });

describe('warnIfNotDurable', () => {
  it('refuses ENQUEUE_WAIT_AOF on a Redis without an AOF (WAITAOF would fail every webhook), naming the setting', async () => {
    await assert.rejects(
      warnIfNotDurable(redis72('no'), { enqueueWaitAof: true, enqueueWaitReplicas: 0 }, logger),
      (err: unknown) => err instanceof ConfigError && /ENQUEUE_WAIT_AOF: this Redis has appendonly no/.test(err.message),
    );
  });

  it('takes ENQUEUE_WAIT_AOF on a Redis 7.2 with its AOF on', async () => {
    await warnIfNotDurable(redis72('yes'), { enqueueWaitAof: true, enqueueWaitReplicas: 0 }, logger);
  });
});
