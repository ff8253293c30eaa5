// node --test --test-global-setup: one redis-server for the whole run, shared by the test files
// through a QUEUE_PREFIX each (packages/testing redisSpace). Tests that stop Redis start their own.
import { startRedis, type TestRedis } from '@auphonic-bridge/testing';

let redis: TestRedis | undefined;

export async function globalSetup(): Promise<void> {
  redis = await startRedis();
  process.env.TEST_REDIS_URL = redis.url.toString();
}

export async function globalTeardown(): Promise<void> {
  await redis?.close();
}
