import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { BridgeError } from './errors.ts';

/**
 * Where a URL a user gave us (a notify URL) may not point: loopback,
 * private, link-local, unique-local, carrier-grade NAT, multicast and
 * unspecified addresses. Letting a user make the bridge POST there would
 * reach the bridge's own network (SSRF: a metadata endpoint, an admin port).
 */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

export class OutboundUrlError extends BridgeError {
  constructor(message: string) {
    super('ERR_OUTBOUND_URL', message);
  }
}

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** http(s), no credentials in it, and not an address of the forbidden kinds (unless allowed). Throws OutboundUrlError. */
export function checkOutboundUrl(raw: string, opts: { allowPrivate: boolean }): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundUrlError('not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundUrlError('must be http or https');
  if (url.username || url.password) throw new OutboundUrlError('must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && (isIP(host) ? isForbiddenAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
    throw new OutboundUrlError('points at a loopback, private or link-local address (NOTIFY_ALLOW_PRIVATE=true allows it)');
  }
  return url;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | Array<{ address: string; family: number }>,
  family?: number,
) => void;

/**
 * A dns.lookup that refuses forbidden addresses: given to the HTTP client, it
 * checks the very address the connection goes to (a name that resolved to a
 * public address when checked and to a private one when used, DNS rebinding,
 * gets no connection).
 */
export function guardedLookup(opts: { allowPrivate: boolean }) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = opts.allowPrivate ? addresses : addresses.filter((a) => !isForbiddenAddress(a.address));
      if (allowed.length === 0) {
        const refused = Object.assign(new OutboundUrlError(`${hostname} resolves to a loopback, private or link-local address`), {
          errno: 0,
        }) as NodeJS.ErrnoException;
        return callback(refused, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, allowed);
      const [first] = allowed;
      callback(null, first?.address ?? '', first?.family);
    });
  };
}
