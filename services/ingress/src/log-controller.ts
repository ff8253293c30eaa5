import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Fastify's request logs name the URL, and a webhook URL carries a secret.
 * These name the route pattern instead (`/webhooks/auphonic/:secret`).
 */
export class RouteLogController extends LogController {
  constructor() {
    super({ disableRequestLogging: false });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Asked first: under load, building a line nobody writes costs more than the line.
    if (!(request.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info')) return;
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ...(error ? { error: error.message } : {}),
      },
      'request completed',
    );
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method }, 'no such route');
  }
}
