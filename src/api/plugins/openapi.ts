import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { OPERATION_IDS, operationKey, PUBLIC_OPERATIONS } from '../operation-ids.js';

/**
 * OpenAPI 3.1 generated from the route schemas, served at GET /openapi.json, and a
 * readable page at GET /docs. Must be registered before the routes it describes.
 */
export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      // Shared schemas under their own names (Subscription, ErrorBody...), not def-0, def-1.
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
      // Each operation's id from the one table; routes without a credential say so.
      transform: ({ schema, url, route }) => {
        if (!schema || schema.hide) return { schema, url };
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        const operationId = OPERATION_IDS[operationKey(methods[0]!, url)];
        if (!operationId) return { schema, url };
        return { schema: { ...schema, operationId, ...(PUBLIC_OPERATIONS.has(operationId) ? { security: [] } : {}) }, url };
      },
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Herald',
          version: opts.version,
          description:
            'Signed, durable webhook delivery. Implements the Pusher API (webhook subscriptions), the event payloads, ' +
            'the business APIs that emit them, and the Inventory API payment-terminals resource.',
        },
        servers: [{ url: '/', description: 'This Herald (the server answering this document).' }],
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: 'An OAuth access token from POST /token, or an API key.',
            },
            admin: { type: 'http', scheme: 'bearer', description: 'The admin token (HERALD_ADMIN_TOKEN).' },
            apiKey: {
              type: 'apiKey',
              in: 'header',
              name: 'x-api-key',
              description: "An API key in Betterez's header (the Inventory API routes; alone or beside a Bearer credential).",
            },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'herald-openapi' },
);
