import type { Logger } from '@auphonic-bridge/runtime';
import Fastify, { type FastifyError } from 'fastify';
import type { Enqueuer } from './enqueue.ts';
import { HttpError } from './errors.ts';
import { RouteLogController } from './log-controller.ts';
import { healthRoutes } from './routes/health.ts';
import { productionWebhookRoutes } from './routes/production-webhook.ts';

export interface AppDeps {
  logger: Logger;
  enqueuer: Enqueuer;
  isReady: () => Promise<boolean>;
  webhookSecrets: readonly string[];
  bodyLimit: number;
}

/** The HTTP app: routes and error shape, no process concerns (see service.ts). */
export function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new RouteLogController(),
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const statusCode = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (statusCode >= 500 && !(err instanceof HttpError)) {
      request.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: 'ERR_INTERNAL', message: 'internal error' });
    }
    if (err instanceof HttpError && statusCode >= 500) request.log.warn({ code: err.code, cause: String(err.cause) }, err.message);
    return reply.code(statusCode).send({ error: err.code ?? 'ERR_BAD_REQUEST', message: err.message });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'ERR_NOT_FOUND', message: 'not found' }));

  app.register(healthRoutes, { isReady: deps.isReady });
  app.register(productionWebhookRoutes, { secrets: deps.webhookSecrets, bodyLimit: deps.bodyLimit, enqueuer: deps.enqueuer });
  return app;
}

export type App = ReturnType<typeof buildApp>;
