import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../src/config.ts';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const base = { STORAGE_DIR: '/tmp/x', ENCRYPTION_KEY: NEW.toString('base64') };

// What the worker does with the keys (opens with either, re-seals, ERR_DECRYPT for good
// when neither opens a token) is tested end to end in test/key-rotation.e2e.test.ts.
describe('worker config: rotating ENCRYPTION_KEY', () => {
  it('reads ENCRYPTION_KEY_PREVIOUS beside ENCRYPTION_KEY, the current key first, and names it when malformed', () => {
    assert.deepEqual(readConfig({ ...base, ENCRYPTION_KEY_PREVIOUS: OLD.toString('hex') }).encryptionKey, [NEW, OLD]);
    assert.deepEqual(readConfig(base).encryptionKey, [NEW]);
    assert.throws(() => readConfig({ ...base, ENCRYPTION_KEY_PREVIOUS: 'short' }), /ENCRYPTION_KEY_PREVIOUS: must be 32 bytes/);
    assert.throws(
      () => readConfig({ STORAGE_DIR: '/tmp/x', AUPHONIC_API_KEY: 'key-0123456789', ENCRYPTION_KEY_PREVIOUS: OLD.toString('hex') }),
      /ENCRYPTION_KEY_PREVIOUS: is set without ENCRYPTION_KEY/,
    );
  });
});
