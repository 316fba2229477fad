import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import {
  createAppConnection,
  getAppConnection,
  listAppConnections,
  removeAppConnection,
} from '../../../domain/identity/app-connections.js';
import { ALL_SCOPES } from '../../../domain/scopes.js';
import { errors } from '../../schemas.js';

const AppConnectionFields = {
  connectionId: Type.String({ format: 'uuid' }),
  organizationUuid: Type.String({ format: 'uuid' }),
  userUuid: Type.String({ format: 'uuid', description: 'The user the app acts as in this organization.' }),
  clientId: Type.String(),
  scopes: Type.Array(Type.String()),
  livemode: Type.Boolean(),
  created: Type.String({ format: 'date-time' }),
};

export const AppConnectionSchema = Type.Object(AppConnectionFields, { $id: 'AppConnection' });

const CreatedAppConnectionSchema = Type.Object(
  {
    ...AppConnectionFields,
    refreshToken: Type.String({ description: 'The first refresh token, for POST /token. Shown this once.' }),
  },
  { $id: 'CreatedAppConnection' },
);

const OrgParams = Type.Object({ organizationUuid: Type.String() });
const ConnectionParams = Type.Object({ organizationUuid: Type.String(), connectionId: Type.String() });

/**
 * Admin: app connections, i.e. OAuth clients authorized for an organization. Creating
 * one stands in for the authorization-code flow (Herald has no consent screen): it
 * returns the refresh token the app would have received.
 */
export default async function adminAppConnectionRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  app.addSchema(AppConnectionSchema);
  app.addSchema(CreatedAppConnectionSchema);

  app.post(
    '/admin/organizations/:organizationUuid/app-connections',
    {
      schema: {
        tags: ['admin'],
        summary: 'Connect an OAuth client to an organization; returns its first refresh token (shown once).',
        security: [{ admin: [] }],
        params: OrgParams,
        body: Type.Object({
          clientId: Type.String({ minLength: 1, maxLength: 256 }),
          scopes: Type.Array(Type.String(), { maxItems: 64, description: `Any of ${ALL_SCOPES.join(', ')}.` }),
          livemode: Type.Optional(Type.Boolean({ default: true })),
        }),
        response: { 201: Type.Ref('CreatedAppConnection'), ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const { organizationUuid } = req.params as { organizationUuid: string };
      const body = req.body as { clientId: string; scopes: string[]; livemode?: boolean };
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(await createAppConnection(ctx, organizationUuid, body));
    },
  );

  app.get(
    '/admin/organizations/:organizationUuid/app-connections',
    {
      schema: {
        tags: ['admin'],
        summary: 'List the app connections of an organization (removed ones are not listed).',
        security: [{ admin: [] }],
        params: OrgParams,
        response: { 200: Type.Array(Type.Ref('AppConnection')), ...errors(401, 404) },
      },
    },
    async (req) => listAppConnections(ctx, (req.params as { organizationUuid: string }).organizationUuid),
  );

  app.get(
    '/admin/organizations/:organizationUuid/app-connections/:connectionId',
    {
      schema: {
        tags: ['admin'],
        summary: 'Get an app connection.',
        security: [{ admin: [] }],
        params: ConnectionParams,
        response: { 200: Type.Ref('AppConnection'), ...errors(401, 404) },
      },
    },
    async (req) => {
      const { organizationUuid, connectionId } = req.params as { organizationUuid: string; connectionId: string };
      return getAppConnection(ctx, organizationUuid, connectionId);
    },
  );

  app.delete(
    '/admin/organizations/:organizationUuid/app-connections/:connectionId',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Remove an app connection: its refresh tokens stop at once, its access tokens within HERALD_CREDENTIAL_CACHE_SECONDS; ' +
          "ApplicationConnectionRemoved goes to the organization's subscriptions.",
        security: [{ admin: [] }],
        params: ConnectionParams,
        response: { 204: Type.Null(), ...errors(401, 404) },
      },
    },
    async (req, reply) => {
      const { organizationUuid, connectionId } = req.params as { organizationUuid: string; connectionId: string };
      await removeAppConnection(ctx, organizationUuid, connectionId);
      return reply.status(204).send();
    },
  );
}
