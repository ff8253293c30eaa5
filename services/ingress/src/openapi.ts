import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorBody } from './schemas/common.ts';

/**
 * The OpenAPI document, generated from the routes' own schemas (schemas/):
 * each is written once, validates requests and serialises answers, and is
 * described here. Served at GET /openapi.json.
 */
export const openApi = fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'auphonic-bridge ingress',
        version: '0.1.0',
        description: "Receives Auphonic's webhooks; the admin API connects Auphonic users as an External Service.",
      },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } } },
    },
    // Shared schemas (with an $id) become components, and routes refer to them.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.addSchema(ErrorBody);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
