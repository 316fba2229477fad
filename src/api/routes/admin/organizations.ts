import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import { allOrganizations, createOrganization, getOrganization } from '../../../domain/organizations.js';
import { errors } from '../../schemas.js';

export const OrganizationSchema = Type.Object(
  {
    organizationUuid: Type.String({ format: 'uuid' }),
    name: Type.String(),
    accountId: Type.String({ description: '24-hex id used by the Inventory API (accountId).' }),
    details: Type.Record(Type.String(), Type.Unknown()),
    created: Type.String({ format: 'date-time' }),
    updated: Type.String({ format: 'date-time' }),
  },
  { $id: 'Organization' },
);

/** Admin: organizations. */
export default async function adminOrganizationRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  app.addSchema(OrganizationSchema);
  const org = Type.Ref('Organization');

  app.post(
    '/admin/organizations',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an organization.',
        security: [{ admin: [] }],
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 256 }),
          details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }),
        response: { 201: org, ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; details?: Record<string, unknown> };
      return reply.status(201).send(await createOrganization(ctx, body));
    },
  );

  app.get(
    '/admin/organizations',
    {
      schema: {
        tags: ['admin'],
        summary: 'List organizations.',
        security: [{ admin: [] }],
        response: { 200: Type.Array(org), ...errors(401) },
      },
    },
    async () => allOrganizations(ctx.db),
  );

  app.get(
    '/admin/organizations/:organizationUuid',
    {
      schema: {
        tags: ['admin'],
        summary: 'Get an organization.',
        security: [{ admin: [] }],
        params: Type.Object({ organizationUuid: Type.String() }),
        response: { 200: org, ...errors(401, 404) },
      },
    },
    async (req) => getOrganization(ctx.db, (req.params as { organizationUuid: string }).organizationUuid),
  );
}
