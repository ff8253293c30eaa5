import type { FastifyInstance } from 'fastify';

const error = { $ref: '#/components/schemas/Error' };
const connection = { $ref: '#/components/schemas/Connection' };
const json = (schema: unknown) => ({ 'application/json': { schema } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } };

/** The OpenAPI description of the ingress, served at GET /openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'auphonic-bridge ingress',
    version: '0.1.0',
    description: "Receives Auphonic's webhooks; the admin API connects Auphonic users as an External Service.",
  },
  components: {
    securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    schemas: {
      Error: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error', 'message'] },
      Connection: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          display_name: { type: 'string' },
          custom_data: {},
          status: { enum: ['pending', 'connected', 'needs_reauth'] },
          problem: { type: ['string', 'null'] },
          auphonic_user: { type: ['object', 'null'], properties: { user_id: { type: 'string' }, username: { type: 'string' } } },
          service_uuid: { type: ['string', 'null'] },
          webhook_url: { type: 'string', format: 'uri' },
          return_url: { type: ['string', 'null'] },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
  paths: {
    '/healthz': {
      get: {
        summary: 'Ready to take webhooks (Redis reachable)',
        responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } },
      },
    },
    '/webhooks/auphonic/{secret}': {
      post: {
        summary: "Auphonic's production webhook",
        parameters: [{ name: 'secret', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: Object.fromEntries(
            ['application/x-www-form-urlencoded', 'multipart/form-data'].map((t) => [
              t,
              {
                schema: {
                  type: 'object',
                  properties: { uuid: { type: 'string' }, status: { type: 'string' }, status_string: { type: 'string' } },
                  required: ['uuid', 'status'],
                },
              },
            ]),
          ),
        },
        responses: {
          200: { description: 'queued' },
          400: { description: 'malformed', content: json(error) },
          404: { description: 'wrong secret', content: json(error) },
          413: { description: 'too large, or more than 20 fields', content: json(error) },
          415: { description: 'unsupported content type', content: json(error) },
          503: { description: 'cannot queue now; Auphonic retries', content: json(error) },
        },
      },
    },
    '/webhooks/service/{connectionId}': {
      post: {
        summary: "Auphonic's External Service webhook (JWT, HS256, client secret)",
        parameters: [{ name: 'connectionId', in: 'path', required: true, schema: { type: 'string' } }],
        description:
          'The body is the JWT, whatever the content type (or none): bare, or as a JSON string. The signature admits it, never the type.',
        requestBody: {
          content: Object.fromEntries(
            ['application/jwt', 'application/json', 'text/plain', 'application/x-www-form-urlencoded'].map((t) => [
              t,
              { schema: { type: 'string' } },
            ]),
          ),
        },
        responses: {
          200: {
            description: 'queued; result links when known',
            content: json({ type: 'object', properties: { result_page_url: { type: 'string' }, result_file_url: { type: 'string' } } }),
          },
          400: { description: 'malformed token', content: json(error) },
          401: { description: 'signature or algorithm refused', content: json(error) },
          404: { description: 'unknown connection', content: json(error) },
          413: { description: 'larger than WEBHOOK_BODY_LIMIT', content: json(error) },
          429: { description: 'over SERVICE_WEBHOOK_RATE_LIMIT for this connection; see Retry-After', content: json(error) },
          503: { description: 'cannot queue now', content: json(error) },
        },
      },
    },
    '/api/connections': {
      post: {
        summary: 'Start connecting a user: answers the link to send their browser to',
        security: [{ admin: [] }],
        requestBody: {
          content: json({
            type: 'object',
            properties: { display_name: { type: 'string' }, custom_data: {}, return_url: { type: 'string', format: 'uri' } },
            required: ['display_name'],
          }),
        },
        responses: {
          201: {
            description: 'created',
            content: json({ type: 'object', properties: { id: { type: 'string' }, authorize_url: { type: 'string' } } }),
          },
          400: { description: 'invalid body', content: json(error) },
          401: { description: 'no or wrong ADMIN_TOKEN', content: json(error) },
        },
      },
      get: {
        summary: 'List connections (never their tokens)',
        security: [{ admin: [] }],
        responses: {
          200: {
            description: 'connections',
            content: json({ type: 'object', properties: { connections: { type: 'array', items: connection } } }),
          },
        },
      },
    },
    '/api/connections/{id}': {
      get: {
        summary: 'One connection',
        security: [{ admin: [] }],
        parameters: [idParam],
        responses: { 200: { description: 'it', content: json(connection) }, 404: { description: 'no such connection' } },
      },
      delete: {
        summary: 'Remove a connection (its webhook stops working; Auphonic keeps its service entry until the user removes it)',
        security: [{ admin: [] }],
        parameters: [idParam],
        responses: { 204: { description: 'removed' }, 404: { description: 'no such connection' } },
      },
    },
    '/api/connections/{id}/reconnect': {
      post: {
        summary: 'A new link to authorise this connection again (same Auphonic user only); earlier links stop working',
        security: [{ admin: [] }],
        parameters: [idParam],
        responses: {
          200: {
            description: 'the link',
            content: json({ type: 'object', properties: { id: { type: 'string' }, authorize_url: { type: 'string' } } }),
          },
          404: { description: 'no such connection', content: json(error) },
        },
      },
    },
    '/api/connections/{id}/services': {
      post: {
        summary: "Register another display_name/custom_data for this connection's user (the same display_name updates)",
        security: [{ admin: [] }],
        parameters: [idParam],
        requestBody: {
          content: json({ type: 'object', properties: { display_name: { type: 'string' }, custom_data: {} }, required: ['display_name'] }),
        },
        responses: {
          200: { description: 'existing connection updated', content: json(connection) },
          201: { description: 'new connection registered', content: json(connection) },
          409: { description: 'the user has not authorised yet, or must again', content: json(error) },
        },
      },
    },
    '/oauth/start': {
      get: {
        summary: 'Browser: binds the flow to this browser and redirects to Auphonic',
        responses: {
          302: { description: 'to Auphonic' },
          400: { description: 'link invalid or expired' },
          409: { description: 'link already used, or replaced by a newer one' },
        },
      },
    },
    '/oauth/callback': {
      get: {
        summary: "Browser: Auphonic's redirect back with the code",
        responses: {
          200: { description: 'connected' },
          302: { description: 'to return_url' },
          400: { description: 'not from the browser that started it, forged, replayed or expired' },
          409: { description: 'link already used, or another Auphonic user than the connection has' },
        },
      },
    },
  },
} as const;

export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', async () => openApiDocument);
}
