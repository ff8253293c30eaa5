import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: URL;
  port: number;
  /** Stops the server (to test what happens when Redis goes away). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real redis-server of its own for one test file, on a random port, keeping
 * nothing on disk unless asked to (appendfsync); `noeviction` as BullMQ requires.
 * stop() is a SIGKILL: the process dies as in a crash.
 */
export async function startRedis(opts: { appendfsync?: 'always' | 'everysec' } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'bridge-redis-'));
  let child: ChildProcess | undefined;
  // With appendfsync, an append-only file in `dir` that survives stop() and restart(), as a deployment's would.
  const persistence = opts.appendfsync ? ['--appendonly', 'yes', '--appendfsync', opts.appendfsync] : ['--appendonly', 'no'];
  const launch = async () => {
    child = spawn(
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    child.on('error', () => {});
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        if (Date.now() > until) throw new Error('redis-server did not start (is it installed?)');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url: new URL(`redis://127.0.0.1:${port}`),
    port,
    stop,
    restart: launch,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis for one test file: a prefix of its own on the run's shared server, or a server of its own. */
export interface TestRedisSpace {
  url: URL;
  /** QUEUE_PREFIX for this file: its queues and keys never meet another file's. */
  prefix: string;
  close(): Promise<void>;
}

/**
 * The run's one redis-server (started by test/setup/redis.ts, TEST_REDIS_URL),
 * shared as BullMQ's own tests share one: each caller gets a prefix of its
 * own. Run alone (no global setup), a file gets a server of its own. A test
 * that stops or kills Redis uses startRedis() instead.
 */
export async function redisSpace(): Promise<TestRedisSpace> {
  const prefix = `t${randomBytes(6).toString('hex')}`;
  const shared = process.env.TEST_REDIS_URL;
  if (shared) return { url: new URL(shared), prefix, close: async () => {} };
  const own = await startRedis();
  return { url: own.url, prefix, close: () => own.close() };
}
