import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import { createOrganization, getOrganization, listOrganizationsPage } from '../../../domain/organizations.js';
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
        summary: 'List organizations, oldest first.',
        description:
          'Paging: at most `limit` (1,000 by default, so callers that do not page get every organization of a small ' +
          'installation); a full page means there may be more: ask again with the last organizationUuid as `after`. ' +
          'An `after` that names no organization is 400.',
        security: [{ admin: [] }],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })),
          after: Type.Optional(Type.String({ format: 'uuid', description: 'The organizationUuid of the last organization of the previous page.' })),
        }),
        response: { 200: Type.Array(org), ...errors(400, 401) },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; after?: string };
      return listOrganizationsPage(ctx.db, { limit: q.limit ?? 1000, after: q.after });
    },
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
