import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Auphonic production and preset uuids: 22 characters of [A-Za-z0-9]. */
export function randomUuid(): string {
  let out = '';
  for (let i = 0; i < 22; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/**
 * Deterministic pseudo-random bytes (xorshift32), so fixtures created over the
 * control routes are reproducible and their checksums stable between runs.
 */
export function pseudoRandomBytes(size: number, seed = 0x9e3779b9): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}
