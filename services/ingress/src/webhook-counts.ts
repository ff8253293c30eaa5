import type { IngressMetrics } from '@auphonic-bridge/metrics';
import { WEBHOOK_PATHS } from '@auphonic-bridge/runtime';

export type WebhookRoute = 'production' | 'service';

/** Counts webhook deliveries where their answer is decided: the handler (accepted) and the error handler (refused). */
export interface WebhookCounts {
  accepted(route: WebhookRoute): void;
  refused(route: WebhookRoute, statusCode: number): void;
}

/**
 * Counted where the answer is decided rather than in an onResponse hook: any
 * onResponse hook makes Fastify add listeners to every response, a cost each
 * webhook pays. The label sets are bound once (prom-client hashes labels on
 * every inc otherwise).
 */
export function webhookCounts(metrics: IngressMetrics): WebhookCounts {
  const received = {
    production: metrics.webhooksReceived.labels({ route: 'production' }),
    service: metrics.webhooksReceived.labels({ route: 'service' }),
  };
  const refused = new Map<string, { inc(): void }>();
  return {
    accepted(route) {
      received[route].inc();
    },
    refused(route, statusCode) {
      received[route].inc();
      const key = `${route} ${statusCode}`;
      let counter = refused.get(key);
      if (!counter) {
        counter = metrics.webhooksRefused.labels({ route, reason: refusalReason(statusCode) });
        refused.set(key, counter);
      }
      counter.inc();
    },
  };
}

/** Which webhook a route pattern is, if any. */
export function webhookRoute(url: string | undefined): WebhookRoute | null {
  if (url?.startsWith(WEBHOOK_PATHS.production)) return 'production';
  if (url?.startsWith(WEBHOOK_PATHS.service)) return 'service';
  return null;
}

const REASONS: Record<number, string> = {
  400: 'bad_request',
  401: 'bad_signature',
  404: 'unknown_secret_or_connection',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'queue_unavailable',
};

function refusalReason(statusCode: number): string {
  return REASONS[statusCode] ?? `http_${statusCode}`;
}
