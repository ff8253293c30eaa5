import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Presigned links like object storage's (S3/R2): a signature over the path and
 * an expiry, checked when a request starts.
 */
export class Presigner {
  readonly #secret = randomBytes(32);

  sign(path: string, ttlMs: number, now = Date.now()): string {
    const date = new Date(now).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const expires = String(Math.floor(ttlMs / 1000));
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Date': date,
      'X-Amz-Expires': expires,
      'X-Amz-SignedHeaders': 'host',
    });
    query.set('X-Amz-Signature', this.#mac(path, date, expires));
    return `${path}?${query}`;
  }

  check(path: string, query: URLSearchParams, now = Date.now()): 'ok' | 'bad-signature' | 'expired' {
    const date = query.get('X-Amz-Date') ?? '';
    const expires = query.get('X-Amz-Expires') ?? '';
    const given = Buffer.from(query.get('X-Amz-Signature') ?? '');
    const expected = Buffer.from(this.#mac(path, date, expires));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-signature';
    const iso = date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
    const signedAt = Date.parse(iso);
    if (iso === date || Number.isNaN(signedAt)) return 'bad-signature';
    return now > signedAt + Number(expires) * 1000 ? 'expired' : 'ok';
  }

  #mac(path: string, date: string, expires: string): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${date}\n${expires}`).digest('hex');
  }
}
