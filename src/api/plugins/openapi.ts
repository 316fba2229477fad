import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * OpenAPI 3.1 generated from the route schemas, served at GET /openapi.json, and a
 * readable page at GET /docs. Must be registered before the routes it describes.
 */
export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Herald',
          version: opts.version,
          description:
            'Signed, durable webhook delivery. Implements the Pusher API (webhook subscriptions), the event payloads, ' +
            'the business APIs that emit them, and the Inventory API payment-terminals resource.',
        },
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
