import { type FastifyRequest, LogController, type onResponseHookHandler } from 'fastify';

/**
 * Fastify's request logs name the URL, and a webhook URL carries a secret.
 * These name the route pattern instead (`/webhooks/auphonic/:secret`).
 */
export class RouteLogController extends LogController {
  constructor() {
    super({ disableRequestLogging: false });
  }

  override incomingRequest(): void {}

  // Written by logCompletion, where Fastify is given no logger of its own (see app.ts).
  override requestCompleted(): void {}

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method }, 'no such route');
  }
}

/** The line for each answered request; an onResponse hook (callback style: an async one costs a promise). */
export const logCompletion: onResponseHookHandler = (request, reply, done) => {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
  done();
};
