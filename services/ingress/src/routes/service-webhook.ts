import type { ConnectionStore } from '@auphonic-bridge/connections';
import type { FastifyInstance } from 'fastify';
import type { ExternalServiceConfig } from '../config.ts';
import type { Enqueuer } from '../enqueue.ts';
import { HttpError, unavailableOnFailure } from '../errors.ts';
import { resultFileUrl, resultPageUrl } from '../result-urls.ts';
import { tokenFromBody, verifyServiceJwt } from '../service-jwt.ts';

export interface ServiceWebhookOptions {
  config: ExternalServiceConfig;
  store: ConnectionStore;
  enqueuer: Enqueuer;
  /** WEBHOOK_BODY_LIMIT. */
  bodyLimit: number;
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
export async function serviceWebhookRoutes(app: FastifyInstance, opts: ServiceWebhookOptions): Promise<void> {
  const { config, store, enqueuer } = opts;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) =>
    done(null, tokenFromBody(body as string)),
  );

  app.post<{ Params: { connectionId: string } }>(
    '/webhooks/service/:connectionId',
    { bodyLimit: opts.bodyLimit },
    async (request, reply) => {
      const connection = await unavailableOnFailure(store.get(request.params.connectionId));
      if (!connection) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such webhook');
      if (typeof request.body !== 'string' || !request.body) throw new HttpError(400, 'ERR_BAD_WEBHOOK', 'body is not a JWT');
      const webhook = await verifyServiceJwt(request.body, config.clientSecrets);
      request.log = request.log.child({ uuid: webhook.uuid, connection: connection.id });
      const jobId = await enqueuer.enqueueProduction({
        uuid: webhook.uuid,
        owner: { kind: 'connection', id: connection.id },
        reportedStatus: null,
        customData: webhook.customData,
      });
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
