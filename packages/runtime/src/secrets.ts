import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Constant-time: hashing first gives equal lengths, and every configured secret
 * is compared, so timing tells nothing about which one or how much matched.
 */
export function matchesAnySecret(candidate: string, secrets: readonly string[]): boolean {
  const given = digest(candidate);
  let match = false;
  for (const secret of secrets) {
    if (timingSafeEqual(given, digest(secret))) match = true;
  }
  return match;
}
