import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { OrganizationDetailsSchema } from '../../domain/payload-schemas.js';
import {
  DETAIL_FIELDS,
  getOrganizationDetails,
  updateOrganizationDetailsOf,
  type OrganizationDetailsInput,
} from '../../sources/organization-details.js';
import { actorOf, requireCredential } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const OrgParams = Type.Object({ organizationUuid: Type.String({ description: 'The organization, or "self".' }) });
const security = [{ bearer: [] }];
const tags = ['organization'];

const PATTERNS: Partial<Record<(typeof DETAIL_FIELDS)[number], string>> = {
  contactEmail: '^$|^[^@\\s]+@[^@\\s]+$',
  country: '^([A-Z]{2})?$',
  currency: '^([A-Z]{3})?$',
};

const DetailsInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    ...Object.fromEntries(
      DETAIL_FIELDS.map((f) => [f, Type.Optional(Type.String({ maxLength: 512, ...(PATTERNS[f] ? { pattern: PATTERNS[f] } : {}) }))]),
    ),
  },
  {
    description: 'The full details: a field left out is cleared ("").',
    examples: [{ name: 'Café Zettle', contactEmail: 'owner@example.com', city: 'Stockholm', country: 'SE', currency: 'SEK' }],
  },
);


/** The organization's details: READ:USERINFO to read, WRITE:USERINFO to change (emits OrganizationUpdated). */
export default async function organizationRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx);

  app.get(
    '/organizations/:organizationUuid',
    {
      config: { scopes: ['READ:USERINFO'] },
      schema: {
        tags,
        security,
        summary: 'Get the organization\'s details.',
        params: OrgParams,
        response: { 200: OrganizationDetailsSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => getOrganizationDetails(ctx.db, actorOf(req)),
  );

  app.put(
    '/organizations/:organizationUuid',
    {
      config: { scopes: ['WRITE:USERINFO'] },
      schema: {
        tags,
        security,
        summary: 'Replace the organization\'s details. Emits OrganizationUpdated {organizationUuid, newEntity, oldEntity}.',
        description: 'A PUT that changes nothing emits nothing.',
        params: OrgParams,
        body: DetailsInputSchema,
        response: { 200: OrganizationDetailsSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => updateOrganizationDetailsOf(ctx, actorOf(req), req.body as OrganizationDetailsInput),
  );
}
