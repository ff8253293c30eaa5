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

/** Permanent until the configuration changes: no key configured opens this value. */
export class DecryptionError extends BridgeError {
  constructor() {
    super(
      'ERR_DECRYPT',
      'stored credential cannot be decrypted with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS ' +
        '(was ENCRYPTION_KEY changed without setting the old one as ENCRYPTION_KEY_PREVIOUS?)',
    );
  }
}

/** The key, or the keys while rotating: the current one first, then previous ones still accepted. */
export type EncryptionKeys = Buffer | readonly Buffer[];

interface DerivedKeys {
  enc: Buffer;
  mac: Buffer;
}

// Separate keys for separate purposes, both derived from the one setting.
const derive = (key: Buffer): DerivedKeys => ({
  enc: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auphonic-bridge credentials v1', 32)),
  mac: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'auphonic-bridge signatures v1', 32)),
});

/**
 * Credentials at rest: AES-256-GCM with a random IV, sealed as
 * `v1.<iv>.<ciphertext>.<tag>` (base64url). The associated data binds a
 * ciphertext to its record, so one cannot be swapped for another's.
 * Seals and signs with the current key; opens and verifies with any, so a
 * key can be rotated (ENCRYPTION_KEY_PREVIOUS) without losing what it sealed.
 */
export class Sealer {
  readonly #keys: DerivedKeys[];

  constructor(keys: EncryptionKeys) {
    const list = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (list.length === 0 || list.some((k) => k.length !== 32)) throw new Error('encryption keys must be 32 bytes each, at least one');
    this.#keys = list.map(derive);
  }

  get #current(): DerivedKeys {
    return this.#keys[0] as DerivedKeys;
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current.enc, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, associatedData: string): string {
    return this.unseal(sealed, associatedData).plaintext;
  }

  /** Opens with any key; `current` is false when a previous key did, so the caller can seal it again. */
  unseal(sealed: string, associatedData: string): { plaintext: string; current: boolean } {
    const [version, iv, ciphertext, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || ciphertext === undefined || !tag) throw new DecryptionError();
    for (const [i, key] of this.#keys.entries()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.enc, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
        return { plaintext, current: i === 0 };
      } catch {
        // Not this key's: try the next.
      }
    }
    throw new DecryptionError();
  }

  /** A short-lived signed value (cookies, links): `<payload>.<expiresAt>.<mac>`. */
  sign(payload: string, ttlMs: number, now = Date.now()): string {
    const body = `${payload}.${now + ttlMs}`;
    return `${body}.${mac(this.#current, body)}`;
  }

  /** The payload of a value from sign() under any key, or null when forged, altered or expired. */
  verify(signed: string, now = Date.now()): string | null {
    const cut = signed.lastIndexOf('.');
    if (cut < 0) return null;
    const body = signed.slice(0, cut);
    const given = Buffer.from(signed.slice(cut + 1));
    let valid = false;
    for (const key of this.#keys) {
      const expected = Buffer.from(mac(key, body));
      if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
    }
    if (!valid) return null;
    const dot = body.lastIndexOf('.');
    const expiresAt = Number(body.slice(dot + 1));
    if (dot < 0 || !Number.isFinite(expiresAt) || expiresAt < now) return null;
    return body.slice(0, dot);
  }
}

function mac(key: DerivedKeys, body: string): string {
  return createHmac('sha256', key.mac).update(body).digest('base64url');
}
