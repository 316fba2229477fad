import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys } from '../../../domain/identity/api-keys.js';
import { ALL_SCOPES } from '../../../domain/scopes.js';
import { errors } from '../../schemas.js';

const ApiKeyFields = {
  apiKeyId: Type.String({ format: 'uuid' }),
  organizationUuid: Type.String({ format: 'uuid' }),
  userUuid: Type.String({ format: 'uuid', description: 'The user the key acts as (GET /users/self).' }),
  clientId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    description: "The key's client_id claim (updated.clientUuid of its changes); null for a key issued before keys were JWTs.",
  }),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  livemode: Type.Boolean({ description: 'false for a test-mode key.' }),
  prefix: Type.String({ description: 'A few characters of the key, to tell keys apart (a JWT key: "…" and its last characters).' }),
  created: Type.String({ format: 'date-time' }),
};

export const ApiKeySchema = Type.Object(ApiKeyFields, { $id: 'ApiKey' });

const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeyFields,
    apiKey: Type.String({ description: 'The key, a signed JWT (docs/auth.md). Shown this once: Herald keeps only its hash.' }),
  },
  { $id: 'CreatedApiKey' },
);

const OrgParams = Type.Object({ organizationUuid: Type.String() });
const KeyParams = Type.Object({ organizationUuid: Type.String(), apiKeyId: Type.String() });

/** Admin: API keys of an organization. */
export default async function adminApiKeyRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  app.addSchema(ApiKeySchema);
  app.addSchema(CreatedApiKeySchema);

  app.post(
    '/admin/organizations/:organizationUuid/api-keys',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an API key. The response is the only time the secret is shown.',
        security: [{ admin: [] }],
        params: OrgParams,
        body: Type.Object({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, default: 'API key' })),
          scopes: Type.Array(Type.String(), { maxItems: 64, description: `Any of ${ALL_SCOPES.join(', ')}.` }),
          livemode: Type.Optional(Type.Boolean({ default: true, description: 'false makes a test-mode key.' })),
        }),
        response: { 201: Type.Ref('CreatedApiKey'), ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const { organizationUuid } = req.params as { organizationUuid: string };
      const body = req.body as { name?: string; scopes: string[]; livemode?: boolean };
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(await createApiKey(ctx, organizationUuid, body));
    },
  );

  app.get(
    '/admin/organizations/:organizationUuid/api-keys',
    {
      schema: {
        tags: ['admin'],
        summary: 'List the API keys of an organization (never their secrets; revoked keys are not listed).',
        security: [{ admin: [] }],
        params: OrgParams,
        response: { 200: Type.Array(Type.Ref('ApiKey')), ...errors(401, 404) },
      },
    },
    async (req) => listApiKeys(ctx, (req.params as { organizationUuid: string }).organizationUuid),
  );

  app.get(
    '/admin/organizations/:organizationUuid/api-keys/:apiKeyId',
    {
      schema: {
        tags: ['admin'],
        summary: 'Get an API key (never its secret).',
        security: [{ admin: [] }],
        params: KeyParams,
        response: { 200: Type.Ref('ApiKey'), ...errors(401, 404) },
      },
    },
    async (req) => {
      const { organizationUuid, apiKeyId } = req.params as { organizationUuid: string; apiKeyId: string };
      return getApiKey(ctx, organizationUuid, apiKeyId);
    },
  );

  app.delete(
    '/admin/organizations/:organizationUuid/api-keys/:apiKeyId',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Revoke an API key: it stops working at once, access tokens minted from it within HERALD_CREDENTIAL_CACHE_SECONDS; ' +
          'PersonalAssertionDeleted goes to the subscriptions it created.',
        security: [{ admin: [] }],
        params: KeyParams,
        response: { 204: Type.Null(), ...errors(401, 404) },
      },
    },
    async (req, reply) => {
      const { organizationUuid, apiKeyId } = req.params as { organizationUuid: string; apiKeyId: string };
      await deleteApiKey(ctx, organizationUuid, apiKeyId);
      return reply.status(204).send();
    },
  );
}
