export { Browser } from './browser.ts';
export { LogCapture } from './logs.ts';
export { REPO_ROOT, runScript, type ScriptRun, type SpawnedService, scriptArgs, spawnService, startArgs } from './process.ts';
export { startRedisCluster, type TestRedisCluster } from './redis-cluster.ts';
export { startRedisSentinels, type TestRedisSentinels } from './redis-sentinel.ts';
export { freePort, redisSpace, startRedis, type TestRedis, type TestRedisSpace } from './redis-server.ts';
export { startS3, type TestS3 } from './s3-server.ts';
export { waitFor } from './wait.ts';
export { quantile, streamWebhooks, type WebhookStream } from './webhook-stream.ts';
