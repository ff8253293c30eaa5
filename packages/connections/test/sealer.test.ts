import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader } from '@auphonic-bridge/runtime';
import { DecryptionError, readEncryptionKeys, Sealer } from '../src/index.ts';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const OTHER = Buffer.alloc(32, 3);
const AD = 'bridge:oauth-token:42';

describe('Sealer', () => {
  it('seals and opens with one key, bound to its associated data', () => {
    const sealer = new Sealer(NEW);
    const sealed = sealer.seal('token-123', AD);
    assert.ok(!sealed.includes('token-123'));
    assert.deepEqual(sealer.unseal(sealed, AD), { plaintext: 'token-123', current: true });
    assert.throws(() => sealer.open(sealed, 'bridge:oauth-token:43'), DecryptionError);
  });

  it('while rotating, opens what the previous key sealed and says it is not current; seals with the current key', () => {
    const sealedByOld = new Sealer(OLD).seal('token-123', AD);
    const rotating = new Sealer([NEW, OLD]);
    assert.deepEqual(rotating.unseal(sealedByOld, AD), { plaintext: 'token-123', current: false });
    const resealed = rotating.seal('token-123', AD);
    assert.equal(new Sealer(NEW).open(resealed, AD), 'token-123', 'sealed with the current key');
    assert.throws(() => new Sealer(OLD).open(resealed, AD), DecryptionError);
  });

  it('a value no configured key opens is a permanent ERR_DECRYPT naming both settings', () => {
    const sealed = new Sealer(OTHER).seal('token-123', AD);
    for (const keys of [NEW, [NEW, OLD]]) {
      assert.throws(
        () => new Sealer(keys).open(sealed, AD),
        (err: Error) =>
          err instanceof DecryptionError &&
          err.code === 'ERR_DECRYPT' &&
          /ENCRYPTION_KEY\b/.test(err.message) &&
          /ENCRYPTION_KEY_PREVIOUS/.test(err.message) &&
          !err.message.includes('token-123'),
      );
    }
    assert.throws(() => new Sealer(NEW).open('not-sealed', AD), DecryptionError);
  });

  it('verifies signed values under either key, signs with the current one', () => {
    const byOld = new Sealer(OLD).sign('connect.abc', 60_000);
    assert.equal(new Sealer([NEW, OLD]).verify(byOld), 'connect.abc');
    assert.equal(new Sealer(NEW).verify(byOld), null);
    const byRotating = new Sealer([NEW, OLD]).sign('flow.xyz', 60_000);
    assert.equal(new Sealer(NEW).verify(byRotating), 'flow.xyz');
  });

  it('refuses signed values that are altered or expired', () => {
    const sealer = new Sealer([NEW, OLD]);
    const signed = sealer.sign('flow.xyz', 1000, 0);
    assert.equal(sealer.verify(signed, 500), 'flow.xyz');
    assert.equal(sealer.verify(signed, 1001), null);
    assert.equal(sealer.verify(signed.replace('flow.xyz', 'flow.abc'), 500), null);
    assert.equal(sealer.verify(`${signed}x`, 500), null);
  });

  it('wants 32-byte keys', () => {
    assert.throws(() => new Sealer(Buffer.alloc(16)));
    assert.throws(() => new Sealer([NEW, Buffer.alloc(31)]));
    assert.throws(() => new Sealer([]));
  });
});

describe('readEncryptionKeys', () => {
  const read = (env: Record<string, string>, optional = false) => {
    const r = new EnvReader(env);
    const keys = readEncryptionKeys(r, { optional });
    r.done();
    return keys;
  };

  it('reads ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS, the current one first', () => {
    assert.deepEqual(read({ ENCRYPTION_KEY: NEW.toString('hex'), ENCRYPTION_KEY_PREVIOUS: OLD.toString('base64') }), [NEW, OLD]);
    assert.deepEqual(read({ ENCRYPTION_KEY: NEW.toString('hex') }), [NEW]);
    assert.deepEqual(read({ ENCRYPTION_KEY: NEW.toString('hex'), ENCRYPTION_KEY_PREVIOUS: NEW.toString('base64') }), [NEW]);
    assert.equal(read({}, true), null);
  });

  it('names the setting that is wrong, never echoing a key', () => {
    const bad = 'not-a-key-at-all';
    assert.throws(() => read({}), /ENCRYPTION_KEY: is required/);
    assert.throws(
      () => read({ ENCRYPTION_KEY: NEW.toString('hex'), ENCRYPTION_KEY_PREVIOUS: bad }),
      (err: Error) => /ENCRYPTION_KEY_PREVIOUS: must be 32 bytes/.test(err.message) && !err.message.includes(bad),
    );
    assert.throws(
      () => read({ ENCRYPTION_KEY_PREVIOUS: OLD.toString('hex') }, true),
      /ENCRYPTION_KEY_PREVIOUS: is set without ENCRYPTION_KEY/,
    );
  });
});
