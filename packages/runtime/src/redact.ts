import { WEBHOOK_PATHS } from './webhook-paths.ts';

/** Keys whose values are credentials wherever they appear. */
const SECRET_KEY = /token|secret|password|authorization|api_?key|credential/i;

/** Credentials that travel inside URLs: our webhook's path secret, bearer tokens and signatures in queries. */
const URL_SECRETS: Array<[RegExp, string]> = [
  [new RegExp(`(${WEBHOOK_PATHS.production.replaceAll('/', '\\/')})[^/?#\\s"']+`, 'g'), '$1[redacted]'],
  [
    /([?&](?:bearer_token|access_token|token|api_key|apikey|x-amz-signature|x-amz-credential|x-amz-security-token|signature)=)[^&#\s"']+/gi,
    '$1[redacted]',
  ],
  // user:password@ before a host (a receiver's URL with basic auth in it): the user stays, the password goes.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/?#\s"':@]*):[^/?#\s"'@]*@/gi, '$1:[redacted]@'],
];

export const REDACTED = '[redacted]';

/** Whether a key names a credential (`access_token`, `clientSecret`, `apiKey`, …): its value is one wherever it appears. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy with every credential we can recognise removed: values under
 * secret-looking keys, our production webhook URL's secret, tokens and
 * signatures in query strings. For what is written to storage, job data,
 * job results and the dashboard: the production's `webhook` field carries
 * our URL with WEBHOOK_SECRET in it.
 */
export function redactCredentials<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretKey(k) && v !== null && v !== '' ? REDACTED : redact(v)]));
  }
  return value;
}

export function redactString(text: string): string {
  let out = text;
  for (const [pattern, replacement] of URL_SECRETS) out = out.replace(pattern, replacement);
  return out;
}
