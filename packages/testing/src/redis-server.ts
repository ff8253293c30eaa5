import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { TestCertificates } from './tls-certs.ts';

export interface TestRedis {
  url: URL;
  port: number;
  /** Stops the server (to test what happens when Redis goes away). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Ports below Linux's ephemeral range (32768-60999): the kernel gives those to every listen(0)
 * and outgoing connection, so a port taken from there can be handed to another test's server
 * before ours binds it. The likely cause of a bundle test, under load, that saw /healthz answer
 * while its service was still loading (it was then killed before it handled SIGTERM).
 */
const LOW = 20_000;
const HIGH = 32_000;

/** A free TCP port on loopback, chosen at random below the ephemeral range (else any free one). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await bindable(port)) return port;
  }
  return listenOn(0);
}

async function bindable(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

async function listenOn(port: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

/** One redis-server process (a data node, or a sentinel with `--sentinel`) on a port of its own. */
export interface RedisProcess {
  port: number;
  /** Starts it (again), resolving once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: it dies as in a crash. */
  kill(): Promise<void>;
}

/** With `tls`, the port takes TLS only (`--tls-port`, no plain port). */
export function redisProcess(args: readonly string[], opts: { port: number; password?: string; tls?: TestCertificates }): RedisProcess {
  const { port, password, tls } = opts;
  const listen = tls ? ['--port', '0', '--tls-port', String(port), ...tls.serverArgs] : ['--port', String(port)];
  let child: ChildProcess | undefined;
  return {
    port,
    async start() {
      child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', [...args, ...listen, '--bind', '127.0.0.1'], {
        stdio: 'ignore',
      });
      child.on('error', () => {});
      const probe = new Redis({
        port,
        host: '127.0.0.1',
        password,
        // Whether it answers, not whom its certificate names (a test may serve one for another host).
        ...(tls ? { tls: { ca: tls.ca, checkServerIdentity: () => undefined } } : {}),
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => {});
      const until = Date.now() + 10_000;
      for (;;) {
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          probe.disconnect();
          if (Date.now() > until) {
            // Not left running to hold the test's process open.
            child?.kill('SIGKILL');
            throw new Error('redis-server did not start (is it installed?)');
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What every test server keeps: nothing on disk unless asked, `noeviction` as BullMQ requires. */
export const DATA_NODE_ARGS = ['--save', '', '--maxmemory-policy', 'noeviction'] as const;

/**
 * A real redis-server of its own for one test file, on a random port, keeping
 * nothing on disk unless asked to (appendfsync); `noeviction` as BullMQ requires.
 * stop() is a SIGKILL: the process dies as in a crash.
 */
export async function startRedis(opts: { appendfsync?: 'always' | 'everysec'; tls?: TestCertificates } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'bridge-redis-'));
  // With appendfsync, an append-only file in `dir` that survives stop() and restart(), as a deployment's would.
  const persistence = opts.appendfsync ? ['--appendonly', 'yes', '--appendfsync', opts.appendfsync] : ['--appendonly', 'no'];
  const server = redisProcess([...DATA_NODE_ARGS, ...persistence, '--dir', dir], { port, tls: opts.tls });
  await server.start();
  return {
    url: new URL(`${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`),
    port,
    stop: () => server.kill(),
    restart: () => server.start(),
    async close() {
      await server.kill();
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
