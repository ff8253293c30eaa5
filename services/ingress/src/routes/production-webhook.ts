import { matchesAnySecret } from '@auphonic-bridge/runtime';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Enqueuer } from '../enqueue.ts';
import { badWebhook, bodyTooLarge, unknownWebhook } from '../errors.ts';
import { parseProductionWebhook } from '../webhook-fields.ts';

export interface ProductionWebhookOptions {
  secrets: readonly string[];
  bodyLimit: number;
  enqueuer: Enqueuer;
}

type Fields = Record<string, string | string[]>;

/**
 * POST /webhooks/auphonic/:secret — Auphonic's production webhook, as a form
 * and, when that failed, again as multipart. The body is not signed: the URL
 * secret admits it, and the worker trusts only what the API then says.
 * Encapsulated, so its body parsers apply to this route only.
 */
export async function productionWebhookRoutes(app: FastifyInstance, opts: ProductionWebhookOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => {
    done(null, formFields(new URLSearchParams(body as string)));
  });
  await app.register(multipart, {
    limits: { fields: 10, fieldNameSize: 100, fieldSize: 1024, files: 1, fileSize: 1, parts: 20, headerPairs: 20 },
  });

  app.post<{ Params: { secret: string } }>('/webhooks/auphonic/:secret', {
    bodyLimit: opts.bodyLimit,
    // Before the body is read: strangers' bodies are not parsed at all.
    onRequest: async (request) => {
      if (!matchesAnySecret(request.params.secret, opts.secrets)) {
        request.log.warn({ remote: request.ip }, 'webhook with an unknown secret refused');
        throw unknownWebhook();
      }
      const length = Number(request.headers['content-length']);
      if (length > opts.bodyLimit) throw bodyTooLarge();
    },
    handler: async (request, reply) => {
      const fields = request.isMultipart() ? await multipartFields(request) : ((request.body as Fields | undefined) ?? {});
      const webhook = parseProductionWebhook(fields);
      request.log = request.log.child({ uuid: webhook.uuid });
      await opts.enqueuer.enqueueProduction({ uuid: webhook.uuid, owner: { kind: 'account' }, reportedStatus: webhook.status });
      request.log.info({ reportedStatus: webhook.status }, 'production webhook queued');
      return reply.code(200).send({ status: 'queued', uuid: webhook.uuid });
    },
  });
}

function formFields(params: URLSearchParams): Fields {
  const fields: Fields = {};
  for (const [key, value] of params) {
    const prior = fields[key];
    fields[key] = prior === undefined ? value : [prior, value].flat();
  }
  return fields;
}

async function multipartFields(request: FastifyRequest): Promise<Fields> {
  const fields: Fields = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') throw badWebhook('file parts are not accepted');
      if (part.valueTruncated || part.fieldnameTruncated) throw bodyTooLarge();
      const value = String(part.value);
      const prior = fields[part.fieldname];
      fields[part.fieldname] = prior === undefined ? value : [prior, value].flat();
    }
  } catch (err) {
    // The multipart parser's own errors carry a status (413 for limits); the rest are malformed bodies.
    if ((err as { statusCode?: number }).statusCode) throw err;
    throw badWebhook(`malformed multipart body: ${(err as Error).message}`);
  }
  return fields;
}
