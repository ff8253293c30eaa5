import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { BridgeError } from '@auphonic-bridge/runtime';

/** Parses ENCRYPTION_KEY: 32 bytes as 64 hex digits or base64/base64url. Returns null when malformed. */
export function parseEncryptionKey(raw: string): Buffer | null {
  const value = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === 32 ? key : null;
  }
  return null;
}

export class DecryptionError extends BridgeError {
  constructor() {
    super('ERR_DECRYPT', 'stored credential cannot be decrypted (wrong ENCRYPTION_KEY?)');
  }
}

/**
 * Credentials at rest: AES-256-GCM with a random IV, sealed as
 * `v1.<iv>.<ciphertext>.<tag>` (base64url). The associated data binds a
 * ciphertext to its record, so one cannot be swapped for another's.
 */
export class Sealer {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
    // Separate keys for separate purposes, both derived from the one setting.
    this.#encKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auphonic-bridge credentials v1', 32));
    this.#macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auphonic-bridge signatures v1', 32));
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, associatedData: string): string {
    const [version, iv, ciphertext, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || ciphertext === undefined || !tag) throw new DecryptionError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError();
    }
  }

  /** A short-lived signed value (cookies, links): `<payload>.<expiresAt>.<mac>`. */
  sign(payload: string, ttlMs: number, now = Date.now()): string {
    const body = `${payload}.${now + ttlMs}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** The payload of a value from sign(), or null when forged, altered or expired. */
  verify(signed: string, now = Date.now()): string | null {
    const cut = signed.lastIndexOf('.');
    if (cut < 0) return null;
    const body = signed.slice(0, cut);
    const given = Buffer.from(signed.slice(cut + 1));
    const expected = Buffer.from(this.#mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const dot = body.lastIndexOf('.');
    const expiresAt = Number(body.slice(dot + 1));
    if (dot < 0 || !Number.isFinite(expiresAt) || expiresAt < now) return null;
    return body.slice(0, dot);
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#macKey).update(body).digest('base64url');
  }
}
