import { createServer, type Server } from 'node:http';
import type { Registry } from '@auphonic-bridge/metrics';

/**
 * The worker's small HTTP port (METRICS_PORT): GET /metrics for Prometheus,
 * /livez (the process answers), /healthz (Redis reachable, taking jobs, and no job stuck).
 * Plain node:http: three fixed routes need no framework.
 */
export function createOpsServer(registry: Registry, isReady: () => Promise<{ ready: boolean; reason: string }>): Server {
  return createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/livez') return send(200, 'application/json', '{"status":"ok"}\n');
    if (path === '/healthz') {
      void isReady()
        .catch(() => ({ ready: false, reason: 'readiness check failed' }))
        .then(({ ready, reason }) =>
          send(ready ? 200 : 503, 'application/json', `${JSON.stringify(ready ? { status: 'ok' } : { status: 'unavailable', reason })}\n`),
        );
      return;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (body) => send(200, registry.contentType, body),
        () => send(500, 'text/plain', 'metrics failed\n'),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
}
