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

declare module 'fastify' {
  interface FastifyRequest {
    /** What a handler (or the error handler: the refusal's code) has to say in its request's one line (see logCompletion). */
    logNote: LogNote | null;
  }
}

export interface LogNote {
  /** Instead of "request completed". */
  msg?: string;
  fields: Record<string, unknown>;
}

/**
 * The one line for each answered request; an onResponse hook (callback style: an async one
 * costs a promise). A handler's note (an accepted webhook's uuid) goes into it rather than
 * into a line of its own: a pino line costs about 5 µs here, a tenth of what the ingress
 * spends on a webhook.
 */
export const logCompletion: onResponseHookHandler = (request, reply, done) => {
  const note = request.logNote;
  request.log.info(
    {
      ...note?.fields,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    },
    note?.msg ?? 'request completed',
  );
  done();
};
