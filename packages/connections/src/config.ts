import type { EnvReader } from '@auphonic-bridge/runtime';
import { parseEncryptionKey } from './encryption.ts';

const MALFORMED = 'must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)';

/**
 * ENCRYPTION_KEY and, while rotating it, ENCRYPTION_KEY_PREVIOUS (still
 * opens what the old key sealed, which is then sealed again with the new
 * one): the current key first. Null when ENCRYPTION_KEY is unset and optional.
 */
export function readEncryptionKeys(r: EnvReader, opts: { optional: boolean }): Buffer[] | null {
  const raw = opts.optional ? r.optionalString('ENCRYPTION_KEY') : r.string('ENCRYPTION_KEY');
  const rawPrevious = r.optionalString('ENCRYPTION_KEY_PREVIOUS');
  const key = raw ? parseEncryptionKey(raw) : null;
  const previous = rawPrevious ? parseEncryptionKey(rawPrevious) : null;
  if (raw && !key) r.problem('ENCRYPTION_KEY', MALFORMED);
  if (rawPrevious && !previous) r.problem('ENCRYPTION_KEY_PREVIOUS', MALFORMED);
  if (rawPrevious && !raw) r.problem('ENCRYPTION_KEY_PREVIOUS', 'is set without ENCRYPTION_KEY (the current key)');
  if (!key && !raw && opts.optional) return null;
  // A problem is recorded by now, and EnvReader.done() throws: the placeholder is never used.
  if (!key) return [Buffer.alloc(32)];
  return previous && !previous.equals(key) ? [key, previous] : [key];
}
