import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WebhookDelivery {
  ok: boolean;
  attempts: Array<{ format: 'form' | 'multipart' | 'jwt'; status?: number; error?: string; body?: string }>;
}

const USER_AGENT = 'Auphonic-Webhook/1.0 (auphonic-bridge simulator)';

async function post(
  url: string | URL,
  body: string | URLSearchParams | FormData,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status?: number; error?: string; body?: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'user-agent': USER_AGENT, ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error;
    return { error: e.name === 'TimeoutError' ? 'timeout' : ((e.cause as Error | undefined)?.message ?? e.message) };
  }
}

/**
 * A production webhook the way Auphonic sends it: the fields form-encoded;
 * when that fails (4xx/5xx) the same fields again as multipart; on a timeout or
 * a broken connection, another round after a pause.
 */
export async function sendWebhook(
  url: string | URL,
  fields: { uuid: string; status: number; status_string: string },
  opts: { timeoutMs?: number; retries?: number; retryDelayMs?: number } = {},
): Promise<WebhookDelivery> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const values = { uuid: fields.uuid, status: String(fields.status), status_string: fields.status_string };
  const attempts: WebhookDelivery['attempts'] = [];
  for (let round = 0; round <= (opts.retries ?? 2); round++) {
    if (round > 0) await sleep(opts.retryDelayMs ?? 1000);
    const asForm = await post(url, new URLSearchParams(values), { 'content-type': 'application/x-www-form-urlencoded' }, timeoutMs);
    attempts.push({ format: 'form', ...asForm });
    if (asForm.status !== undefined && asForm.status < 400) return { ok: asForm.status < 300, attempts };
    if (asForm.status !== undefined) {
      const multipart = new FormData();
      for (const [k, v] of Object.entries(values)) multipart.append(k, v);
      const asMultipart = await post(url, multipart, {}, timeoutMs);
      attempts.push({ format: 'multipart', ...asMultipart });
      if (asMultipart.status !== undefined) return { ok: asMultipart.status < 300, attempts };
    }
  }
  return { ok: false, attempts };
}

/** A JWT signed HS256, as Auphonic signs External Service webhooks (with the OAuth app's client secret). */
export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** The External Service webhook: `application/jwt`; 200, 201, 203 or 204 within 60 s stops the retries. */
export async function sendServiceWebhook(
  url: string | URL,
  payload: { uuid: string; custom_data: unknown },
  clientSecret: string,
  opts: { timeoutMs?: number; retries?: number; retryDelayMs?: number } = {},
): Promise<WebhookDelivery> {
  const attempts: WebhookDelivery['attempts'] = [];
  const token = signJwt(payload, clientSecret);
  for (let round = 0; round <= (opts.retries ?? 2); round++) {
    if (round > 0) await sleep(opts.retryDelayMs ?? 1000);
    const answer = await post(url, token, { 'content-type': 'application/jwt' }, opts.timeoutMs ?? 60_000);
    attempts.push({ format: 'jwt', ...answer });
    if (answer.status !== undefined && [200, 201, 203, 204].includes(answer.status)) return { ok: true, attempts };
  }
  return { ok: false, attempts };
}
