import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface FreezableProxy {
  port: number;
  /** From now on, what clients send is held, not passed on: a silent partition, a stopped server. */
  freeze(): void;
  /** Passes on what was held, and everything after: TCP loses nothing, the connections carry on. */
  thaw(): void;
  close(): Promise<void>;
}

/** A TCP proxy on loopback to `target`, for a server that stops answering while its sockets stay open. */
export async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  const links = new Set<{ up: Socket; held: Buffer[] }>();
  const server = createServer((client) => {
    const up = connect(target.port, target.host);
    const link = { up, held: [] as Buffer[] };
    links.add(link);
    client.on('data', (d: Buffer) => {
      if (frozen) link.held.push(d);
      else up.write(d);
    });
    up.pipe(client);
    client.on('close', () => {
      up.destroy();
      links.delete(link);
    });
    up.on('close', () => client.destroy());
    client.on('error', () => {});
    up.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const thaw = () => {
    frozen = false;
    for (const link of links) for (const d of link.held.splice(0)) link.up.write(d);
  };
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
    },
    thaw,
    async close() {
      thaw();
      for (const link of links) link.up.destroy();
      server.close();
    },
  };
}
