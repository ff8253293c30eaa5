import { createServer, type Server } from 'node:http';
import { healthAnswer, LIVE, type Readiness } from '@auphonic-bridge/runtime';
import type { Registry } from 'prom-client';

/** More GET routes answering JSON, e.g. the ingress's /queue-depth. */
export type JsonRoutes = Record<string, () => Promise<unknown>>;

/**
 * A service's small operations port (METRICS_PORT), apart from anything the
 * public reaches: GET /metrics for Prometheus, /livez (the process answers),
 * /healthz (ready), and any JSON routes given. Plain node:http: a few fixed
 * routes need no framework.
 */
export function createOpsServer(registry: Registry, isReady: Readiness, json: JsonRoutes = {}): Server {
  return createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/livez') return send(200, 'application/json', `${JSON.stringify(LIVE)}\n`);
    if (path === '/healthz') {
      void healthAnswer(isReady).then(({ statusCode, body }) => send(statusCode, 'application/json', `${JSON.stringify(body)}\n`));
      return;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (body) => send(200, registry.contentType, body),
        () => send(500, 'text/plain', 'metrics failed\n'),
      );
      return;
    }
    const route = Object.hasOwn(json, path) ? json[path] : undefined;
    if (route) {
      void route().then(
        (body) => send(200, 'application/json', `${JSON.stringify(body)}\n`),
        () => send(503, 'application/json', '{"status":"unavailable"}\n'),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
}
