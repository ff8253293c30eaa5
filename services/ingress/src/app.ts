import type { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import type { IngressMetrics } from '@auphonic-bridge/metrics';
import type { ReconcileQueue, RedisConnection } from '@auphonic-bridge/queue';
import type { Logger, Readiness } from '@auphonic-bridge/runtime';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ExternalServiceConfig } from './config.ts';
import type { Enqueuer } from './enqueue.ts';
import { HttpError, redisUnavailable } from './errors.ts';
import { htmlPage } from './html-page.ts';
import { addRequestLines, RouteLogController, writeRequestLine } from './log-controller.ts';
import { openApi } from './openapi.ts';
import { QueuedLog } from './queued-log.ts';
import { lazyChild } from './request-logger.ts';
import { adminConnectionRoutes } from './routes/admin-connections.ts';
import { adminProductionRoutes } from './routes/admin-productions.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { operationsRoutes } from './routes/operations.ts';
import { productionWebhookRoutes } from './routes/production-webhook.ts';
import { serviceWebhookRoutes } from './routes/service-webhook.ts';
import { webhookCounts, webhookRoute } from './webhook-counts.ts';

export interface AppDeps {
  logger: Logger;
  enqueuer: Enqueuer;
  isReady: Readiness;
  metrics: IngressMetrics;
  /** The producer connection; the service webhook's rate limit counts there, under keyPrefix. */
  redis: RedisConnection;
  keyPrefix: string;
  webhookSecrets: readonly string[];
  /** ADMIN_TOKEN (and its previous one); empty: no admin API. */
  adminTokens: readonly string[];
  bodyLimit: number;
  /** External Service mode, when configured. */
  service: { config: ExternalServiceConfig; store: ConnectionStore; sealer: Sealer; reconcileQueue: ReconcileQueue } | null;
}

/** The HTTP app: routes and error shape, no process concerns (see service.ts). */
export function buildApp(deps: AppDeps) {
  const app = Fastify({
    // No loggerInstance: given one, Fastify adds 'finish' and 'error' listeners to every response to log
    // its completion, which every webhook pays for even when nothing is logged. Requests get our logger
    // through the child factory instead, and completions are logged by a hook added only when written.
    childLoggerFactory: (_fastifyLogger, bindings) => lazyChild(deps.logger, bindings),
    logController: new RouteLogController(),
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // Node's own defaults let a client trickle its headers for 60 s, and look for late requests only
    // every 30 s: a slow client held a connection two to three times requestTimeout.
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 2_000 },
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
    // Refuse unknown fields rather than silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
  });

  const counts = webhookCounts(deps.metrics);
  const requestLines = deps.logger.isLevelEnabled('info');
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const sent = answerError(err, request, reply);
    // A route without the onResponse line (the production webhook's) has its refusals' lines here.
    if (requestLines && request.routeOptions.config?.requestLine === 'refusals') writeRequestLine(request, reply);
    return sent;
  });
  const answerError = (err: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) => {
    const statusCode = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const unavailable = statusCode >= 500 && !(err instanceof HttpError) && redisUnavailable(err, deps.redis);
    const route = webhookRoute(request.routeOptions.url);
    if (route) counts.refused(route, unavailable ? 503 : statusCode);
    // The request's line (logCompletion) says which refusal it was, and why as the sender is told.
    const answer = (code: string, reason?: string) => {
      request.logNote = { fields: { code, reason } };
      return code;
    };
    if (statusCode >= 500 && !(err instanceof HttpError)) {
      // The admin API and the connect pages while Redis is away: as the webhooks, 503 and try again, not a 500.
      if (unavailable) {
        request.log.warn({ err: String(err) }, 'Redis unavailable');
        reply.header('retry-after', '5');
        if (request.routeOptions.url?.startsWith('/oauth/')) {
          return htmlPage(reply, 503, 'Try again in a moment', 'The service is briefly unavailable.');
        }
        return reply.code(503).send({ error: answer('ERR_REDIS_UNAVAILABLE'), message: 'Redis is unavailable right now; try again' });
      }
      request.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: answer('ERR_INTERNAL'), message: 'internal error' });
    }
    if (err instanceof HttpError && statusCode >= 500) request.log.warn({ code: err.code, cause: String(err.cause) }, err.message);
    return reply.code(statusCode).send({ error: answer(stableCode(err, statusCode), err.message), message: err.message });
  };

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'ERR_NOT_FOUND', message: 'not found' }));

  app.decorateRequest('logNote', null);
  // Only when the line would be written: an onResponse hook costs every request two listeners.
  if (requestLines) addRequestLines(app);

  app.register(openApi);
  app.register(operationsRoutes, { isReady: deps.isReady });
  if (deps.webhookSecrets.length > 0) {
    app.register(productionWebhookRoutes, {
      secrets: deps.webhookSecrets,
      bodyLimit: deps.bodyLimit,
      enqueuer: deps.enqueuer,
      accepted: () => counts.accepted('production'),
      queuedLog: requestLines ? new QueuedLog(deps.logger) : null,
    });
  }
  if (deps.adminTokens.length > 0) {
    app.register(adminProductionRoutes, { adminTokens: deps.adminTokens, enqueuer: deps.enqueuer, store: deps.service?.store ?? null });
  }
  if (deps.service) {
    app.register(serviceWebhookRoutes, {
      ...deps.service,
      enqueuer: deps.enqueuer,
      accepted: () => counts.accepted('service'),
      bodyLimit: deps.bodyLimit,
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
    });
    app.register(adminConnectionRoutes, { ...deps.service, adminTokens: deps.adminTokens });
    app.register(oauthRoutes, deps.service);
  }
  return app;
}

export type App = ReturnType<typeof buildApp>;

/** Fastify's own errors (FST_…) answer with our codes, the same for every route. */
const CODES_BY_STATUS: Record<number, string> = {
  400: 'ERR_BAD_REQUEST',
  404: 'ERR_NOT_FOUND',
  413: 'ERR_BODY_TOO_LARGE',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'ERR_RATE_LIMITED',
};

function stableCode(err: FastifyError | HttpError, statusCode: number): string {
  if (err instanceof HttpError) return err.code;
  return CODES_BY_STATUS[statusCode] ?? 'ERR_BAD_REQUEST';
}
