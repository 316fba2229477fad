import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../plugins/auth.js';
import { errors } from '../schemas.js';

/** GET /users/self: who the credential acts as. Register inside a requireCredential context. */
export default async function userRoutes(app: FastifyInstance) {
  app.get(
    '/users/self',
    {
      schema: {
        tags: ['oauth'],
        summary: 'The user the credential acts as, and its organization (use it for organizationUuid, or use "self").',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ uuid: Type.String({ format: 'uuid' }), organizationUuid: Type.String({ format: 'uuid' }) }),
          ...errors(401),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { uuid: p.userUuid, organizationUuid: p.organizationUuid };
    },
  );
}
