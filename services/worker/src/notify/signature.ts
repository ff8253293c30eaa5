import { createHmac } from 'node:crypto';

/** A Standard Webhooks secret: `whsec_` and base64 of the key bytes (the prefix is optional, as the reference libraries take it). */
export function parseWebhookSecret(value: string): Buffer | null {
  const base64 = value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null;
  const key = Buffer.from(base64, 'base64');
  return key.length >= 24 ? key : null;
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, once per key (space
 * separated), so that during a rotation receivers holding either secret verify.
 */
export function signedHeaders(keys: readonly Buffer[], id: string, body: string, now = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signatures = keys.map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`);
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}
