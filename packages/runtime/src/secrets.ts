import { timingSafeEqual } from 'node:crypto';

/**
 * Compares in constant time against every configured secret, so that timing
 * tells nothing about which one matched or how much of it. A candidate of
 * another length than all of them answers sooner: a secret's length is not
 * worth hiding, its bytes are. (Hashing every candidate first would hide the
 * length too, and cost a SHA-256 per webhook: a tenth of what the ingress
 * spends on one under load.)
 */
export function secretMatcher(secrets: readonly string[]): (candidate: string) => boolean {
  const known = secrets.map((s) => Buffer.from(s));
  return (candidate) => {
    const given = Buffer.from(candidate);
    let match = false;
    for (const secret of known) {
      if (secret.length === given.length && timingSafeEqual(given, secret)) match = true;
    }
    return match;
  };
}

/** One comparison, for a caller that compares rarely. */
export function matchesAnySecret(candidate: string, secrets: readonly string[]): boolean {
  return secretMatcher(secrets)(candidate);
}
