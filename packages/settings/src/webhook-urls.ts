import { type EnvReader, WEBHOOK_PATHS } from '@auphonic-bridge/runtime';

/** Our production webhook's address, as the ingress serves it: PUBLIC_URL + /webhooks/auphonic/ + a secret. */
export interface ProductionWebhookSettings {
  /** PUBLIC_URL without a trailing slash; null when unset. */
  publicUrl: string | null;
  /**
   * Our webhook URLs: WEBHOOK_SECRET's first, then WEBHOOK_SECRET_PREVIOUS's (still accepted while
   * rotating). Empty when PUBLIC_URL or the secret is unset (and optional).
   */
  urls: string[];
}

const SECRET = { minLength: 16 } as const;

/**
 * PUBLIC_URL, WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS, read the way the ingress reads
 * the secrets. `required`: PUBLIC_URL and WEBHOOK_SECRET must be set (to give Auphonic the URL);
 * otherwise they only recognise our productions, and nothing is recognised without them.
 */
export function readProductionWebhookUrls(r: EnvReader, opts: { required: boolean }): ProductionWebhookSettings {
  const secrets = [
    r.secret('WEBHOOK_SECRET', { ...SECRET, optional: !opts.required }),
    r.secret('WEBHOOK_SECRET_PREVIOUS', { ...SECRET, optional: true }),
  ];
  const raw = opts.required ? r.string('PUBLIC_URL') : r.optionalString('PUBLIC_URL');
  if (!raw) return { publicUrl: null, urls: [] };
  const url = r.url('PUBLIC_URL', { protocols: ['https:', 'http:'] });
  if (url.search || url.hash) r.problem('PUBLIC_URL', 'must not have a query or fragment');
  const publicUrl = url.toString().replace(/\/+$/, '');
  return { publicUrl, urls: secrets.filter(Boolean).map((secret) => `${publicUrl}${WEBHOOK_PATHS.production}${secret}`) };
}
