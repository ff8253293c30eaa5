import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { BridgeError } from './errors.ts';

/**
 * Where a URL a user gave us (a notify URL) may not point: loopback,
 * private, link-local, unique-local, carrier-grade NAT, multicast and
 * unspecified addresses. Letting a user make the bridge POST there would
 * reach the bridge's own network (SSRF: a metadata endpoint, an admin port).
 */
const FORBIDDEN_V4 = new BlockList();
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
  FORBIDDEN_V4.addSubnet(net, prefix, 'ipv4');
}
// IPv6 rules only. Not ::ffff:0:0/96: Node's BlockList checks an IPv4 address against the IPv6 rules
// in its mapped form, so that rule refused every IPv4 address, public ones too. The IPv6 forms that
// carry an IPv4 address are judged by that address instead (embeddedIpv4).
const FORBIDDEN_V6 = new BlockList();
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // NAT64 for local use: where its IPv4 address sits varies by network
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: its IPv4 address is obfuscated
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  FORBIDDEN_V6.addSubnet(net, prefix, 'ipv6');
}

/**
 * The IPv4 address an IPv6 one carries, where a gateway on the way would
 * turn it back into that address: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64's well-known prefix (64:ff9b::/96, what
 * DNS64 answers for an IPv4-only host on an IPv6-only network) and 6to4
 * (2002:AABB:CCDD::/48).
 */
function embeddedIpv4(address: string): string | null {
  const words = ipv6Words(address);
  if (!words) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zeros(0, 5) && (words[5] === 0xffff || words[5] === 0)) return v4(words[6] ?? 0, words[7] ?? 0);
  // IPv4-translated (SIIT): ::ffff:0:a.b.c.d.
  if (zeros(0, 4) && words[4] === 0xffff && words[5] === 0) return v4(words[6] ?? 0, words[7] ?? 0);
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return v4(words[6] ?? 0, words[7] ?? 0);
  if (words[0] === 0x2002) return v4(words[1] ?? 0, words[2] ?? 0);
  return null;
}

/** An IPv6 address's eight 16-bit words (one isIP has accepted), or null for a form this does not read (a zone id). */
function ipv6Words(address: string): number[] | null {
  if (address.includes('%')) return null;
  let text = address;
  // A trailing dotted quad stands for the last two words.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':').map((w) => Number.parseInt(w, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const words = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

export class OutboundUrlError extends BridgeError {
  constructor(message: string) {
    super('ERR_OUTBOUND_URL', message);
  }
}

/** A URL's host that is a forbidden address literal (bracketed or not), or localhost. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isForbiddenAddress(host);
  return host === 'localhost' || host.endsWith('.localhost');
}

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return FORBIDDEN_V4.check(address, 'ipv4');
  if (FORBIDDEN_V6.check(address, 'ipv6')) return true;
  const v4 = embeddedIpv4(address);
  return v4 !== null && FORBIDDEN_V4.check(v4, 'ipv4');
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
  if (!opts.allowPrivate && isPrivateHost(url.hostname)) {
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
 * gets no connection). `resolve`: dns.lookup unless a test gives another.
 */
export function guardedLookup(opts: { allowPrivate: boolean; resolve?: typeof lookup }) {
  const resolve = opts.resolve ?? lookup;
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
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
