import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DATA_NODE_ARGS, freePort, type RedisProcess, redisProcess } from './redis-server.ts';
import type { TestCertificates } from './tls-certs.ts';
import { waitFor } from './wait.ts';

export interface TestRedisSentinels {
  /** REDIS_SENTINELS: every sentinel, host:port. */
  sentinels: string;
  /** REDIS_SENTINEL_NAME. */
  name: string;
  /** REDIS_PASSWORD: the primary's and the replica's. */
  password: string;
  /** REDIS_SENTINEL_PASSWORD: the sentinels' own. */
  sentinelPassword: string;
  /** The port of the primary, as the sentinels name it now. */
  primaryPort(): Promise<number>;
  /** SENTINEL FAILOVER: resolves once the sentinels name the replica primary and it says so itself. */
  failover(): Promise<{ from: number; to: number }>;
  /** SIGKILL of the primary: resolves once the sentinels have agreed it is down and promoted the replica. */
  killPrimary(): Promise<{ from: number; to: number }>;
  /**
   * The old primary back as the new one's replica (started again if it was killed), as Sentinel
   * makes it on its own only after seconds: resolves once the new primary has a replica online.
   */
  rejoin(failover: { from: number; to: number }): Promise<void>;
  close(): Promise<void>;
}

const NAME = 'bridge-primary';

/**
 * A primary, one replica and `sentinels` sentinels (1 or 3; quorum: a majority), each a
 * real redis-server on a free port with a directory of its own, with passwords. A sentinel
 * deems the primary down after 1 s. Resolves once every sentinel knows the replica and the
 * other sentinels.
 */
export async function startRedisSentinels(opts: { sentinels?: 1 | 3; tls?: TestCertificates } = {}): Promise<TestRedisSentinels> {
  const count = opts.sentinels ?? 3;
  const { tls } = opts;
  // With TLS, every port takes TLS only: replication and the sentinels' own links go over it too.
  const tlsLinks = tls ? ['--tls-replication', 'yes'] : [];
  const password = `data-${Math.random().toString(36).slice(2)}`;
  const sentinelPassword = `sentinel-${Math.random().toString(36).slice(2)}`;
  const root = await mkdtemp(join(tmpdir(), 'bridge-redis-sentinel-'));
  const data = new Map<number, RedisProcess>();
  const killed = new Set<number>();
  const sentinels: RedisProcess[] = [];
  const clients = new Map<number, Redis>();
  const client = (port: number, pass: string) => {
    let c = clients.get(port);
    if (!c) {
      c = new Redis({
        port,
        host: '127.0.0.1',
        password: pass,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 100,
        ...(tls ? { tls: { ca: tls.ca } } : {}),
      });
      c.on('error', () => {});
      clients.set(port, c);
    }
    return c;
  };
  const close = async () => {
    for (const c of clients.values()) c.disconnect();
    await Promise.all([...data.values(), ...sentinels].map((s) => s.kill()));
    await rm(root, { recursive: true, force: true });
  };
  const dirOf = async (port: number) => {
    const dir = join(root, String(port));
    await mkdir(dir);
    return dir;
  };
  try {
    const primary = await freePort();
    const replica = await freePort();
    for (const port of [primary, replica]) {
      // A replica's first sync waits 5 s by default (repl-diskless-sync-delay) for others to join it.
      const auth = ['--requirepass', password, '--masterauth', password, '--repl-diskless-sync-delay', '0'];
      const role = port === replica ? ['--replicaof', '127.0.0.1', String(primary)] : [];
      const server = redisProcess([...DATA_NODE_ARGS, '--appendonly', 'no', '--dir', await dirOf(port), ...auth, ...role, ...tlsLinks], {
        port,
        password,
        tls,
      });
      data.set(port, server);
      await server.start();
    }
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = await dirOf(port);
      // A sentinel rewrites its configuration file: one of its own, in its directory.
      const conf = join(dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `dir ${dir}`,
          `sentinel monitor ${NAME} 127.0.0.1 ${primary} ${Math.floor(count / 2) + 1}`,
          `sentinel down-after-milliseconds ${NAME} 1000`,
          `sentinel failover-timeout ${NAME} 10000`,
          `sentinel auth-pass ${NAME} ${password}`,
          `requirepass ${sentinelPassword}`,
          `sentinel sentinel-pass ${sentinelPassword}`,
          '',
        ].join('\n'),
      );
      const sentinel = redisProcess([conf, '--sentinel', ...tlsLinks], { port, password: sentinelPassword, tls });
      sentinels.push(sentinel);
      await sentinel.start();
    }
    const asked = sentinels.map((s) => client(s.port, sentinelPassword));
    const fields = (flat: unknown) => {
      const list = flat as string[];
      return Object.fromEntries(list.flatMap((v, i) => (i % 2 === 0 ? [[v, list[i + 1]]] : [])));
    };
    await waitFor(async () => {
      for (const s of asked) {
        const master = fields(await s.call('SENTINEL', 'MASTER', NAME));
        const replicas = ((await s.call('SENTINEL', 'REPLICAS', NAME)) as unknown[]).map(fields);
        if (Number(master['num-other-sentinels']) !== count - 1) return false;
        if (!replicas.some((r) => r['master-link-status'] === 'ok' && r.flags === 'slave')) return false;
      }
      return true;
    }, 'the sentinels to know the replica and each other');
    const [first] = asked;
    if (!first) throw new Error('no sentinel');
    const primaryPort = async () => Number(((await first.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as string[])[1]);
    /** Until the sentinels name another primary, and it takes writes. */
    const promoted = async (from: number) => {
      const to = await waitFor(async () => {
        const port = await primaryPort();
        if (port === from) return 0;
        const [role] = (await client(port, password).call('ROLE')) as [string];
        return role === 'master' ? port : 0;
      }, 'the sentinels to promote the replica');
      return { from, to };
    };
    return {
      sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      name: NAME,
      password,
      sentinelPassword,
      primaryPort,
      async failover() {
        const from = await primaryPort();
        // Refused while the sentinel does not yet rate the replica good enough (NOGOODSLAVE): asked again.
        await waitFor(() => first.call('SENTINEL', 'FAILOVER', NAME), 'the sentinel to start a failover');
        return promoted(from);
      },
      async killPrimary() {
        const from = await primaryPort();
        await data.get(from)?.kill();
        killed.add(from);
        return promoted(from);
      },
      async rejoin({ from, to }) {
        if (killed.delete(from)) await data.get(from)?.start();
        const old = client(from, password);
        await waitFor(() => old.call('REPLICAOF', '127.0.0.1', String(to)), 'the old primary to take REPLICAOF');
        const primary = client(to, password);
        await waitFor(
          async () => /slave\d+:.*state=online/.test(await primary.info('replication')),
          'the new primary to have its replica online',
        );
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
