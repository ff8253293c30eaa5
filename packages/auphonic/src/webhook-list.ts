import { AuphonicError } from './errors.ts';

/** A `webhook` field as Auphonic may give it: one URL, a list of them, or "" or null for none. */
export function webhookList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
}

/**
 * The webhooks of a /api/preset/{uuid}/webhook.json answer: `webhook` at the top of the
 * answer, as Auphonic's n8n node reads it, or inside `data` as in every other answer.
 */
export function webhooksOfAnswer(answer: unknown): string[] {
  const top = (answer as { webhook?: unknown } | null)?.webhook;
  if (top !== undefined) return webhookList(top);
  const data = (answer as { data?: unknown } | null)?.data;
  return webhookList(Array.isArray(data) ? data : (data as { webhook?: unknown } | null)?.webhook);
}

/** The API has no such endpoint (or no such preset): 404 or 405. The caller tries the other form. */
export function isMissingEndpoint(err: unknown): boolean {
  return err instanceof AuphonicError && (err.code === 'ERR_AUPHONIC_NOT_FOUND' || err.statusCode === 405);
}
