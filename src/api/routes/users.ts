import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const UserSchema = Type.Object({
  uuid: Type.String({ format: 'uuid', description: 'The user the credential acts as.' }),
  organizationUuid: Type.String({ format: 'uuid' }),
});

/**
 * GET /users/self, and its alias GET /users/me (the PayPal POS plugin checks credentials
 * with it while onboarding): who the credential acts as. Register inside a
 * requireCredential context.
 */
export default async function userRoutes(app: FastifyInstance) {
  const summaries: Record<string, string> = {
    '/users/self': 'The user the credential acts as, and its organization (use it for organizationUuid, or use "self").',
    '/users/me': 'The same as GET /users/self.',
  };
  for (const [path, summary] of Object.entries(summaries)) {
    app.get(
      path,
      { schema: { tags: ['oauth'], summary, security: [{ bearer: [] }], response: { 200: UserSchema, ...errors(401) } } },
      async (req) => {
        const p = principalOf(req);
        return { uuid: p.userUuid, organizationUuid: p.organizationUuid };
      },
    );
  }
}
