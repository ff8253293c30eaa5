import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { DATA_NODE_ARGS, freePort, type RedisProcess, redisProcess } from './redis-server.ts';
import type { TestCertificates } from './tls-certs.ts';
import { waitFor } from './wait.ts';

export interface TestRedisCluster {
  /** REDIS_CLUSTER_NODES: every master, host:port. */
  nodes: string;
  /** REDIS_PASSWORD: every node's requirepass. */
  password: string;
  /** A plain connection to each master, for looking at where keys went. */
  masters(): Redis[];
  close(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` nodes without replicas (`redis-server --cluster-enabled yes`,
 * each on free ports with a directory of its own, joined by `redis-cli --cluster create`),
 * with a password. Resolves once every node says the cluster is ok.
 */
export async function startRedisCluster(opts: { masters?: number; tls?: TestCertificates } = {}): Promise<TestRedisCluster> {
  const { tls } = opts;
  const password = `cluster-${Math.random().toString(36).slice(2)}`;
  const root = await mkdtemp(join(tmpdir(), 'bridge-redis-cluster-'));
  const servers: RedisProcess[] = [];
  const clients: Redis[] = [];
  const close = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (opts.masters ?? 3); i++) {
      const port = await freePort();
      const dir = join(root, String(port));
      await mkdir(dir);
      // The cluster bus port is port + 10000 unless told: a free one of its own, as high ports have no room above.
      const bus = await freePort();
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus)];
      // With TLS, the bus between the nodes too.
      if (tls) args.push('--tls-cluster', 'yes');
      const server = redisProcess([...DATA_NODE_ARGS, '--appendonly', 'no', '--dir', dir, '--requirepass', password, ...args], {
        port,
        password,
        tls,
      });
      servers.push(server);
      await server.start();
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    // The password through the environment, not the command line (other users can read that).
    await promisify(execFile)(
      process.env.REDIS_CLI_BIN ?? 'redis-cli',
      [...(tls ? ['--tls', '--cacert', tls.caFile] : []), '--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { env: { ...process.env, REDISCLI_AUTH: password } },
    );
    for (const s of servers) {
      const client = new Redis({
        port: s.port,
        host: '127.0.0.1',
        password,
        maxRetriesPerRequest: 1,
        ...(tls ? { tls: { ca: tls.ca } } : {}),
      });
      client.on('error', () => {});
      clients.push(client);
    }
    await waitFor(
      async () => (await Promise.all(clients.map((c) => c.cluster('INFO')))).every((info) => /cluster_state:ok/.test(info)),
      'every cluster node to say cluster_state:ok',
    );
    return { nodes: nodes.join(','), password, masters: () => clients, close };
  } catch (err) {
    await close();
    throw err;
  }
}
