import { isProductionUuid } from '@auphonic-bridge/auphonic';
import { errors, jwtVerify } from 'jose';
import { HttpError } from './errors.ts';

export interface ServiceWebhook {
  uuid: string;
  customData: unknown;
}

/** The token in a webhook body: the body itself, or a JSON string holding it; surrounding whitespace ignored. */
export function tokenFromBody(body: string): string {
  const text = body.trim();
  if (!text.startsWith('"')) return text;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value.trim() : '';
  } catch {
    return '';
  }
}

const refused = (reason: string) => new HttpError(401, 'ERR_BAD_SIGNATURE', reason);

/**
 * Verifies the External Service webhook: a JWT signed HS256 with the OAuth
 * app's client secret. HS256 only (never `none`, never another algorithm);
 * each configured secret is tried, so a rotated one keeps working for a while.
 */
export async function verifyServiceJwt(token: string, secrets: readonly string[]): Promise<ServiceWebhook> {
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
      if (!isProductionUuid(payload.uuid)) throw new HttpError(400, 'ERR_BAD_WEBHOOK', 'token payload has no valid production uuid');
      return { uuid: payload.uuid, customData: payload.custom_data ?? null };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      lastError = err;
      // Only a signature mismatch may be the other secret's; anything else is final.
      if (!(err instanceof errors.JWSSignatureVerificationFailed)) break;
    }
  }
  if (lastError instanceof errors.JOSEAlgNotAllowed) throw refused('token algorithm not allowed (HS256 only)');
  if (lastError instanceof errors.JWSSignatureVerificationFailed) throw refused('token signature does not verify');
  if (lastError instanceof errors.JWTExpired) throw refused('token expired');
  if (lastError instanceof errors.JWTClaimValidationFailed) throw refused(`token claim invalid: ${lastError.claim}`);
  throw new HttpError(400, 'ERR_BAD_WEBHOOK', 'body is not a well-formed JWT');
}
