import { secretMatcher, WEBHOOK_PATHS } from '@auphonic-bridge/runtime';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyByteLimit } from '../body-limit.ts';
import type { Enqueuer } from '../enqueue.ts';
import { badWebhook, bodyTooLarge, unknownWebhook } from '../errors.ts';
import type { QueuedLog } from '../queued-log.ts';
import { errors } from '../schemas/common.ts';
import { ProductionWebhookFields, Queued, SecretParams } from '../schemas/webhooks.ts';
import { MAX_WEBHOOK_FIELDS, parseProductionWebhook, tooManyFields, WebhookFields } from '../webhook-fields.ts';

export interface ProductionWebhookOptions {
  secrets: readonly string[];
  bodyLimit: number;
  enqueuer: Enqueuer;
  /** Counts a delivery that was accepted (the error handler counts the refused ones). */
  accepted: () => void;
  /** Logs the accepted ones, a turn's together (null: not at this LOG_LEVEL). */
  queuedLog: QueuedLog | null;
}

/**
 * POST /webhooks/auphonic/:secret — Auphonic's production webhook, as a form
 * and, when that failed, again as multipart. The body is not signed: the URL
 * secret admits it, and the worker trusts only what the API then says.
 *
 * Two routes on one URL, told apart by the body's type: @fastify/multipart
 * gives every request of the context it is registered in two async hooks and
 * a 'close' listener (for temporary files, which we never write), so only the
 * multipart retry's route has it, and the form post, nearly every webhook,
 * pays nothing for it. Each is encapsulated, so its body parser applies to it
 * alone.
 */
export async function productionWebhookRoutes(instance: FastifyInstance, opts: ProductionWebhookOptions): Promise<void> {
  instance.addConstraintStrategy(BODY_KIND);
  const knownSecret = secretMatcher(opts.secrets);
  await instance.register(formRoute, { ...opts, knownSecret });
  await instance.register(multipartRoute, { ...opts, knownSecret });
}

type RouteOptions = ProductionWebhookOptions & { knownSecret: (candidate: string) => boolean };

/** Which route a webhook's body goes to: multipart, or every other type (the form's route answers 415 to those). */
const MULTIPART = /^\s*multipart\/form-data/i;
type Strategy = Parameters<FastifyInstance['addConstraintStrategy']>[0];
type Handler = NonNullable<ReturnType<ReturnType<Strategy['storage']>['get']>>;
const BODY_KIND: Strategy = {
  name: 'webhookBody',
  storage() {
    const handlers = new Map<unknown, Handler>();
    return {
      get: (kind) => handlers.get(kind) ?? null,
      set: (kind, handler) => {
        handlers.set(kind, handler);
      },
    };
  },
  deriveConstraint: (req) => (MULTIPART.test(req.headers['content-type'] ?? '') ? 'multipart' : 'other'),
};

async function formRoute(instance: FastifyInstance, opts: RouteOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => {
    try {
      done(null, formFields(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.post(`${WEBHOOK_PATHS.production}:secret`, {
    ...routeOptions(opts),
    handler: (request) => accept(opts, request, (request.body as unknown as WebhookFields | undefined) ?? new WebhookFields()),
  });
}

async function multipartRoute(instance: FastifyInstance, opts: RouteOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
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
  const route = routeOptions(opts);
  app.post(`${WEBHOOK_PATHS.production}:secret`, {
    ...route,
    constraints: { webhookBody: 'multipart' },
    // The form's route documents both.
    schema: { ...route.schema, hide: true },
    handler: async (request, reply) => accept(opts, request, await multipartFields(request, reply, opts.bodyLimit)),
  });
}

/** What the two routes share: the document, the secret check, the size check. */
function routeOptions(opts: RouteOptions) {
  return {
    bodyLimit: opts.bodyLimit,
    // Accepted webhooks are logged by queuedLog, refusals by the error handler: no onResponse hook.
    config: { requestLine: 'refusals' as const },
    schema: {
      summary: "Auphonic's production webhook: form-encoded, then the same fields as multipart when the form was refused",
      consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
      params: SecretParams,
      // Describes what Auphonic sends; the parsers refuse what does not fit, with a better reason than a schema's.
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
    onRequest: (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
      if (!opts.knownSecret((request.params as { secret: string }).secret)) {
        request.log.warn({ remote: request.ip }, 'webhook with an unknown secret refused');
        return done(unknownWebhook());
      }
      const length = Number(request.headers['content-length']);
      done(length > opts.bodyLimit ? bodyTooLarge() : undefined);
    },
  };
}

async function accept(opts: RouteOptions, request: FastifyRequest, fields: WebhookFields): Promise<{ status: 'queued'; uuid: string }> {
  const webhook = parseProductionWebhook(fields);
  try {
    await opts.enqueuer.enqueueProduction({ uuid: webhook.uuid, owner: { kind: 'account' }, reportedStatus: webhook.status });
  } catch (err) {
    // A child logger costs on every request: made only when the error's log line needs the uuid.
    request.log = request.log.child({ uuid: webhook.uuid });
    throw err;
  }
  opts.accepted();
  opts.queuedLog?.add({ uuid: webhook.uuid, reportedStatus: webhook.status });
  return { status: 'queued', uuid: webhook.uuid };
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
    // The parser's own status for it is 406, which says nothing of a malformed field.
    if ((err as { code?: string }).code === 'FST_INVALID_JSON_FIELD_ERROR')
      throw badWebhook('a field declared application/json is not valid JSON');
    // The multipart parser's own errors carry a status (413 for limits); the rest are malformed bodies.
    if ((err as { statusCode?: number }).statusCode) throw err;
    throw badWebhook(`malformed multipart body: ${(err as Error).message}`);
  } finally {
    limit.release();
  }
  return fields;
}
