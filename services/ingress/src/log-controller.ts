import { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController, type onResponseHookHandler } from 'fastify';

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
  interface FastifyContextConfig {
    /**
     * 'refusals': the route's accepted requests are logged their own way (QueuedLog), so it gets
     * no onResponse hook, which costs every response two listeners; its refusals' lines are
     * written by the error handler.
     */
    requestLine?: 'refusals';
  }
  interface FastifyRequest {
    /** What a handler (or the error handler: the refusal's code) has to say in its request's one line (see logCompletion). */
    logNote: LogNote | null;
  }
}

export interface LogNote {
  fields: Record<string, unknown>;
}

/**
 * The one line for each answered request; an onResponse hook (callback style: an async one
 * costs a promise). A note (a refusal's code and reason, from the error handler) goes into it
 * rather than into a line of its own: a pino line costs about 2.5 µs here. Accepted production
 * webhooks are logged together instead (QueuedLog).
 */
export const logCompletion: onResponseHookHandler = (request, reply, done) => {
  writeRequestLine(request, reply);
  done();
};

/** logCompletion's line, for a route without the hook (`requestLine: 'refusals'`), written as its refusal is sent. */
export function writeRequestLine(request: FastifyRequest, reply: FastifyReply): void {
  const note = request.logNote;
  request.log.info(
    {
      ...note?.fields,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
}

/** The request lines: logCompletion on every route but those that log their own way. */
export const addRequestLines = (app: FastifyInstance): void => {
  app.addHook('onRoute', (route) => {
    if (route.config?.requestLine === 'refusals') return;
    const hooks = route.onResponse ?? [];
    route.onResponse = [...(Array.isArray(hooks) ? hooks : [hooks]), logCompletion];
  });
};
