import assert from 'node:assert/strict';
import type { lookup } from 'node:dns';
import { describe, it } from 'node:test';
import { checkOutboundUrl, guardedLookup, isForbiddenAddress } from '../src/outbound-url.ts';

describe('outbound URLs (SSRF)', () => {
  it('refuses loopback, private and link-local addresses, and the IPv6 forms that carry one', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '169.254.169.254',
      '::1',
      '::',
      '::127.0.0.1', // IPv4-compatible
      '::ffff:127.0.0.1', // IPv4-mapped
      '::ffff:a9fe:a9fe',
      '::ffff:0:127.0.0.1', // IPv4-translated
      '64:ff9b::a9fe:a9fe', // NAT64, well-known prefix
      '64:ff9b::10.0.0.1',
      '64:ff9b:1::a00:1', // NAT64, local use
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      '2002:a9fe:a9fe::', // 6to4 of 169.254.169.254
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      'fd00::1',
      'fe80::1',
      'fec0::1',
      'ff02::1',
      'not an address',
    ]) {
      assert.equal(isForbiddenAddress(address), true, address);
    }
  });

  it('lets public addresses through, IPv4 ones too, and public IPv4 behind NAT64 or 6to4', () => {
    for (const address of [
      '93.184.215.14',
      '1.1.1.1',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:1.1.1.1',
      '64:ff9b::5db8:d70e', // 93.184.215.14 through DNS64
      '2002:5db8:d70e::1',
    ]) {
      assert.equal(isForbiddenAddress(address), false, address);
    }
  });

  it('checks a URL whose host is an address literal, naming the setting that allows it', () => {
    for (const raw of [
      'http://[::ffff:127.0.0.1]:8080/hook',
      'http://[64:ff9b::7f00:1]/',
      'http://[2002:a9fe:a9fe::]/',
      'http://2130706433/',
    ]) {
      assert.throws(() => checkOutboundUrl(raw, { allowPrivate: false }), /NOTIFY_ALLOW_PRIVATE=true/, raw);
      assert.doesNotThrow(() => checkOutboundUrl(raw, { allowPrivate: true }), raw);
    }
    assert.equal(checkOutboundUrl('https://93.184.215.14/auphonic', { allowPrivate: false }).hostname, '93.184.215.14');
  });

  // DNS cannot be reached from the test machines: the resolver is a stand-in answering as a public name's would.
  it('connects to a name that resolves to a public IPv4 address, not to one that resolves to a private one', async () => {
    const answers: Record<string, string[]> = { 'hooks.example.com': ['93.184.215.14'], 'rebound.example.com': ['10.0.0.7', '::1'] };
    const resolve = ((
      hostname: string,
      _options: object,
      callback: (err: Error | null, a: Array<{ address: string; family: number }>) => void,
    ) =>
      callback(
        null,
        (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      )) as unknown as typeof lookup;
    const guarded = guardedLookup({ allowPrivate: false, resolve });
    const look = (hostname: string) =>
      new Promise<{ err: Error | null; address: unknown }>((done) => guarded(hostname, {}, (err, address) => done({ err, address })));
    assert.deepEqual(await look('hooks.example.com'), { err: null, address: '93.184.215.14' });
    const refused = await look('rebound.example.com');
    assert.match(String(refused.err?.message), /resolves to a loopback, private or link-local address/);
  });
});
