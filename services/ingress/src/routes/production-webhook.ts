import { secretMatcher, WEBHOOK_PATHS } from '@auphonic-bridge/runtime';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyByteLimit } from '../body-limit.ts';
import type { Enqueuer } from '../enqueue.ts';
import { badWebhook, bodyTooLarge, unknownWebhook } from '../errors.ts';
import { errors } from '../schemas/common.ts';
import { ProductionWebhookFields, Queued, SecretParams } from '../schemas/webhooks.ts';
import { MAX_WEBHOOK_FIELDS, parseProductionWebhook, tooManyFields, WebhookFields } from '../webhook-fields.ts';

export interface ProductionWebhookOptions {
  secrets: readonly string[];
  bodyLimit: number;
  enqueuer: Enqueuer;
  /** Counts a delivery that was accepted (the error handler counts the refused ones). */
  accepted: () => void;
}

/**
 * POST /webhooks/auphonic/:secret — Auphonic's production webhook, as a form
 * and, when that failed, again as multipart. The body is not signed: the URL
 * secret admits it, and the worker trusts only what the API then says.
 * Encapsulated, so its body parsers apply to this route only.
 */
export async function productionWebhookRoutes(instance: FastifyInstance, opts: ProductionWebhookOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const knownSecret = secretMatcher(opts.secrets);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => {
    try {
      done(null, formFields(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  await app.register(multipart, {
    limits: {
      fields: MAX_WEBHOOK_FIELDS,
      fieldNameSize: 100,
      fieldSize: 1024,
      files: 1,
      fileSize: 1,
      parts: MAX_WEBHOOK_FIELDS,
      headerPairs: 20,
    },
  });

  app.post(`${WEBHOOK_PATHS.production}:secret`, {
    bodyLimit: opts.bodyLimit,
    schema: {
      summary: "Auphonic's production webhook: form-encoded, then the same fields as multipart when the form was refused",
      consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
      params: SecretParams,
      // Describes what Auphonic sends; the parsers below refuse what does not fit, with a better reason than a schema's.
      body: ProductionWebhookFields,
      response: {
        200: Queued,
        ...errors({
          400: 'malformed, or invalid fields',
          404: 'wrong secret',
          413: 'too large, or more than 20 fields',
          415: 'unsupported content type',
          503: 'cannot queue now; Auphonic tries again',
        }),
      },
    },
    // The schema documents the body; parseProductionWebhook judges it, with reasons a sender can act on.
    validatorCompiler: () => () => true,
    // Before the body is read: strangers' bodies are not parsed at all.
    // Callback style, as every hook on this path: an async one costs a promise per request.
    onRequest: (request, _reply, done) => {
      if (!knownSecret(request.params.secret)) {
        request.log.warn({ remote: request.ip }, 'webhook with an unknown secret refused');
        return done(unknownWebhook());
      }
      const length = Number(request.headers['content-length']);
      done(length > opts.bodyLimit ? bodyTooLarge() : undefined);
    },
    handler: async (request, reply) => {
      const fields = request.isMultipart()
        ? await multipartFields(request, reply, opts.bodyLimit)
        : ((request.body as unknown as WebhookFields | undefined) ?? new WebhookFields());
      const webhook = parseProductionWebhook(fields);
      try {
        await opts.enqueuer.enqueueProduction({ uuid: webhook.uuid, owner: { kind: 'account' }, reportedStatus: webhook.status });
      } catch (err) {
        // A child logger costs on every request: made only when the error's log line needs the uuid.
        request.log = request.log.child({ uuid: webhook.uuid });
        throw err;
      }
      opts.accepted();
      request.log.info({ uuid: webhook.uuid, reportedStatus: webhook.status }, 'production webhook queued');
      return reply.code(200).send({ status: 'queued', uuid: webhook.uuid });
    },
  });
}

function formFields(body: string): WebhookFields {
  const fields = new WebhookFields();
  for (const [key, value] of new URLSearchParams(body)) fields.add(key, value);
  return fields;
}

// The multipart parser's own limit errors, which say too little to a sender.
const FIELD_LIMITS = new Set(['FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT']);

async function multipartFields(request: FastifyRequest, reply: FastifyReply, bodyLimit: number): Promise<WebhookFields> {
  const fields = new WebhookFields();
  // Content-Length was checked up front; a chunked body is counted as it is read.
  const limit = new BodyByteLimit(request.raw, bodyLimit);
  const collect = async () => {
    for await (const part of request.parts()) {
      if (part.type === 'file') throw badWebhook('file parts are not accepted');
      if (part.valueTruncated || part.fieldnameTruncated) throw bodyTooLarge();
      fields.add(part.fieldname, String(part.value));
    }
    await limit.untilEnd();
  };
  try {
    await Promise.race([collect(), limit.exceeded]);
  } catch (err) {
    // The rest of a refused body is not read: the connection closes after the answer.
    reply.header('connection', 'close');
    if (FIELD_LIMITS.has((err as { code?: string }).code ?? '')) throw tooManyFields();
    // The multipart parser's own errors carry a status (413 for limits); the rest are malformed bodies.
    if ((err as { statusCode?: number }).statusCode) throw err;
    throw badWebhook(`malformed multipart body: ${(err as Error).message}`);
  } finally {
    limit.release();
  }
  return fields;
}
