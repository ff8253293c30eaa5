import { parseRetryAfter } from '@auphonic-bridge/auphonic';
import type { ConnectionStore } from '@auphonic-bridge/connections';
import type { NotificationJobData, Owner } from '@auphonic-bridge/queue';
import { checkOutboundUrl, guardedLookup, type Logger } from '@auphonic-bridge/runtime';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import got, { type Got } from 'got';
import { putOffMs, ReceiverGate } from './receiver-gate.ts';
import { signedHeaders } from './signature.ts';

export interface NotifySettings {
  /** NOTIFY_URL: where the account's productions (and connections without their own) are told. */
  url: URL | null;
  /** NOTIFY_SECRET first, NOTIFY_SECRET_PREVIOUS after it: every delivery is signed with each. */
  keys: Buffer[];
  allowPrivate: boolean;
  retryForMs: number;
  timeoutMs: number;
  concurrency: number;
}

export interface DeliveryDeps {
  settings: NotifySettings;
  connections: ConnectionStore | null;
  log: Logger;
  onOutcome?: (outcome: NotificationOutcome) => void;
}

/** `deferred`: put off, not tried, while its receiver is unresponsive (receiver-gate.ts). */
export type NotificationOutcome = 'delivered' | 'failed' | 'gone' | 'given-up' | 'deferred';

/** Where an owner's events go, or null when nobody listens. */
export async function targetOf(deps: Pick<DeliveryDeps, 'settings' | 'connections'>, owner: Owner): Promise<string | null> {
  if (owner.kind === 'connection' && deps.connections) {
    const connection = await deps.connections.get(owner.id);
    // Deleted: its productions' events are nobody's now, least of all the account's endpoint.
    if (!connection) return null;
    if (connection.notifyUrl) return connection.notifyUrl;
  }
  return deps.settings.url?.toString() ?? null;
}

/**
 * Sends one event, Standard Webhooks style: POST the body with webhook-id,
 * webhook-timestamp (this attempt's) and webhook-signature. 2xx: delivered.
 * 410: the receiver says stop. Anything else, a timeout or a refused
 * connection: tried again with backoff for NOTIFY_RETRY_FOR. A redirect is a
 * failure (it would lead where the URL check did not look). While a
 * receiver does not answer in time, its events go one at a time (ReceiverGate).
 */
export function createDeliveryProcessor(deps: DeliveryDeps) {
  const http = got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    // A whole attempt is bounded, not only the wait for each byte: the answer's body is never read (below).
    timeout: {
      connect: 10_000,
      response: deps.settings.timeoutMs,
      socket: deps.settings.timeoutMs,
      request: 10_000 + deps.settings.timeoutMs,
    },
    dnsLookup: guardedLookup({ allowPrivate: deps.settings.allowPrivate }) as never,
  });
  // The origin only: a notify URL's path or query may carry the receiver's own token.
  const gate = new ReceiverGate((origin, unresponsive) =>
    unresponsive
      ? deps.log.warn({ receiver: origin }, 'notification receiver not answering in time: its events go one at a time until it answers')
      : deps.log.info({ receiver: origin }, 'notification receiver answering again'),
  );
  return async (job: Job<NotificationJobData>, token?: string): Promise<{ status: number }> => {
    const { id, body, owner, type } = job.data;
    const log = deps.log.child({ notification: id, type, owner });
    // A job that was given up and is taken again was retried by hand (the dashboard's retry keeps its creation time):
    // NOTIFY_RETRY_FOR anew from now, not a single attempt on a spent budget. Told by the mark its give-up left.
    if (job.data.gaveUpAt !== undefined && token) {
      const { gaveUpAt: _gaveUpAt, ...data } = job.data;
      await job.updateData({ ...data, retriedAt: Date.now() });
      log.info('retried by hand: NOTIFY_RETRY_FOR counts from now');
    }
    const lastChance = Date.now() - (job.data.retriedAt ?? job.timestamp) >= deps.settings.retryForMs;
    const fail = async (reason: string, permanent: boolean, retryAfterMs?: number): Promise<never> => {
      if (permanent || lastChance) {
        deps.onOutcome?.(permanent ? 'gone' : 'given-up');
        log.warn({ final: true }, `notification not delivered: ${reason}`);
        if (token) await job.updateData({ ...job.data, gaveUpAt: Date.now() }).catch(() => {});
        throw new UnrecoverableError(reason);
      }
      deps.onOutcome?.('failed');
      log.warn({ final: false }, `notification not delivered, tried again later: ${reason}`);
      // The receiver's Retry-After, which the backoff honours (up to an hour).
      throw Object.assign(new Error(reason), { retryAfterMs });
    };
    const target = await targetOf(deps, owner);
    if (!target) {
      log.info('nobody listens any more (no notify URL, or the connection was deleted): dropped');
      return { status: 0 };
    }
    let url: URL;
    try {
      url = checkOutboundUrl(target, { allowPrivate: deps.settings.allowPrivate });
    } catch (err) {
      return fail(`notify URL refused: ${(err as Error).message}`, true);
    }
    // At its last chance an event is tried, not put off: it is never given up untried.
    if (!gate.enter(url.origin, lastChance)) {
      // Not an attempt: the slot goes to another receiver's event. It comes back after about as long as the
      // receiver has been silent (a timeout at least, an hour at most): a long outage's backlog is not taken
      // every few seconds for a day.
      deps.onOutcome?.('deferred');
      await job.moveToDelayed(Date.now() + putOffMs(gate.unresponsiveFor(url.origin), deps.settings.timeoutMs), token);
      throw new DelayedError();
    }
    let status: number;
    let retryAfter: string | undefined;
    // Whether it answered: null when neither (a refused connection, a DNS failure: quick, no slot held).
    let answered: boolean | null = null;
    try {
      ({ status, retryAfter } = await statusOf(http, url, {
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'auphonic-bridge/0.1',
          ...signedHeaders(deps.settings.keys, id, body),
        },
      }));
      answered = true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ETIMEDOUT') answered = false;
      // got keeps the lookup's code: the guard refused the address the name resolved to.
      if ((err as { code?: string }).code === 'ERR_OUTBOUND_URL') return fail((err as Error).message, true);
      return fail(`no answer (${(err as { code?: string }).code ?? 'error'})`, false);
    } finally {
      gate.leave(url.origin, answered);
    }
    if (status >= 200 && status < 300) {
      deps.onOutcome?.('delivered');
      log.info({ status }, 'notification delivered');
      return { status };
    }
    if (status === 410) return fail('the receiver answered 410 Gone', true);
    return fail(`the receiver answered HTTP ${status}`, false, parseRetryAfter(retryAfter));
  };
}

/**
 * The receiver's status, its body left unread: a receiver that trickles an
 * answer, or sends a huge one, would otherwise hold a delivery slot (and
 * the worker's memory) as long as it liked.
 */
function statusOf(
  http: Got,
  url: URL,
  options: { body: string; headers: Record<string, string> },
): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.stream.post(url, options);
    request.once('response', (response: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
      const retryAfter = response.headers['retry-after'];
      resolve({ status: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
      request.destroy();
    });
    // Kept: an error may follow the destroy, and is of no account once the status is in.
    request.on('error', reject);
  });
}
