import type { Connection, ConnectionStore } from '@auphonic-bridge/connections';
import type { RedisConnection } from '@auphonic-bridge/queue';
import { WEBHOOK_PATHS } from '@auphonic-bridge/runtime';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ExternalServiceConfig } from '../config.ts';
import type { Enqueuer } from '../enqueue.ts';
import { HttpError, unavailableOnFailure } from '../errors.ts';
import { resultFileUrl, resultPageUrl } from '../result-urls.ts';
import { errors } from '../schemas/common.ts';
import { ResultLinks, ServiceWebhookBody, ServiceWebhookParams } from '../schemas/webhooks.ts';
import { tokenFromBody, verifyServiceJwt } from '../service-jwt.ts';

export interface ServiceWebhookOptions {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  enqueuer: Enqueuer;
  /** Counts a delivery that was accepted (the error handler counts the refused ones). */
  accepted: () => void;
  /** WEBHOOK_BODY_LIMIT. */
  bodyLimit: number;
  /** Where the rate limit counts, shared by every ingress replica, under the bridge's key prefix. */
  redis: RedisConnection;
  keyPrefix: string;
}

/**
 * POST /webhooks/service/:connectionId — Auphonic's External Service
 * webhook: a JWT, HS256 with the OAuth app's client secret, payload
 * {uuid, custom_data}. Answers 200 with result links, within 60 s.
 * Auphonic's guide says "a POST request in JSON format encoded using JWT",
 * its curl example sends `application/jwt`: the token is taken from the
 * body whatever the content type (or none), bare or as a JSON string.
 * The signature check is what admits it, never the content type.
 */
type Verified = { connection: Connection; webhook: Awaited<ReturnType<typeof verifyServiceJwt>> };
/** What a request's preValidation found, for its handler. */
const verified = new WeakMap<object, Verified>();

export async function serviceWebhookRoutes(instance: FastifyInstance, opts: ServiceWebhookOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { config, store, enqueuer } = opts;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) =>
    done(null, tokenFromBody(body as string)),
  );

  const perMinute = config.serviceWebhookRateLimit;
  if (perMinute > 0) {
    await app.register(rateLimit, {
      global: false,
      redis: opts.redis,
      nameSpace: `${opts.keyPrefix}rate-limit:service-webhook:`,
      // After the signature check (preValidation): only deliveries that verify are counted, so that
      // strangers who know a connection's id (it is in its URLs) cannot spend its allowance.
      hook: 'preHandler',
      // Redis away: the route answers 503 itself, and Auphonic tries again.
      skipOnError: true,
      keyGenerator: (request) => (request.params as { connectionId: string }).connectionId,
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, 'ERR_RATE_LIMITED', `more than ${context.max} webhooks a minute for this connection; retry in ${context.after}`),
    });
  }

  app.post(
    `${WEBHOOK_PATHS.service}:connectionId`,
    {
      bodyLimit: opts.bodyLimit,
      // Counted once the token verified: a flood of replays of one captured token costs a Redis call each.
      config: perMinute > 0 ? { rateLimit: { max: perMinute, timeWindow: 60_000 } } : {},
      schema: {
        summary: "Auphonic's External Service webhook (a JWT, HS256 with the OAuth client secret)",
        description:
          'The body is the JWT, whatever the content type (or none): bare, or as a JSON string. The signature admits it, never the type.',
        consumes: ['application/jwt', 'application/json', 'text/plain'],
        params: ServiceWebhookParams,
        // For the document: the token is checked by verifyServiceJwt, with its own reasons.
        body: ServiceWebhookBody,
        response: {
          200: ResultLinks,
          ...errors({
            400: 'malformed token',
            401: 'signature or algorithm refused',
            404: 'unknown connection',
            413: 'larger than WEBHOOK_BODY_LIMIT',
            429: 'over SERVICE_WEBHOOK_RATE_LIMIT for this connection; see Retry-After',
            503: 'cannot queue now; Auphonic tries again',
          }),
        },
      },
      // The schema documents the body; verifyServiceJwt judges the token.
      validatorCompiler: () => () => true,
      // Before the rate limit (preHandler): the connection, and the token's signature with its secret.
      preValidation: async (request) => {
        const connection = await unavailableOnFailure(store.get(request.params.connectionId));
        if (!connection) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such webhook');
        request.log = request.log.child({ connection: connection.id });
        if (typeof request.body !== 'string' || !request.body) throw new HttpError(400, 'ERR_BAD_WEBHOOK', 'body is not a JWT');
        const webhook = await verifyServiceJwt(request.body, config.clientSecrets).catch((err: unknown) => {
          // Whose webhook was refused, and why (never the token): a wrong secret after a rotation shows here.
          request.log.warn({ code: (err as { code?: string }).code, reason: (err as Error).message }, 'service webhook refused');
          throw err;
        });
        verified.set(request, { connection, webhook });
      },
    },
    async (request, reply) => {
      const { connection, webhook } = verified.get(request) as Verified;
      request.log = request.log.child({ uuid: webhook.uuid });
      const jobId = await enqueuer.enqueueProduction({
        uuid: webhook.uuid,
        owner: { kind: 'connection', id: connection.id },
        reportedStatus: null,
        customData: webhook.customData,
      });
      opts.accepted();
      request.log.info('service webhook queued');
      const result = config.resultWaitMs > 0 ? await enqueuer.waitForResult(jobId, config.resultWaitMs) : undefined;
      const answer: Record<string, string> = {};
      const page = resultPageUrl(config.resultPageUrlTemplate, webhook.uuid, webhook.customData);
      const file = resultFileUrl(config.publicFilesUrl, result);
      if (page) answer.result_page_url = page;
      if (file) answer.result_file_url = file;
      return reply.code(200).send(answer);
    },
  );
}
