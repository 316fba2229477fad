import type { FastifyInstance } from 'fastify';
import type { DomainContext } from '../../domain/context.js';
import { adminApiDisabled, adminTokenCheck } from '../../domain/identity/admin-token.js';
import { unauthorized } from '../../errors.js';
import { bearerToken } from './bearer.js';
import { consoleSessionOf } from './console-cookie.js';

/**
 * Guards every route registered in this encapsulated context with the admin token
 * (`Authorization: Bearer <token>`, compared in constant time), or, without that header,
 * an operator's Console session cookie (whose changes need its CSRF token).
 */
export function requireAdminToken(app: FastifyInstance, ctx: DomainContext): void {
  const checkAdminToken = adminTokenCheck(ctx.config.adminToken);
  app.addHook('onRequest', async (req, reply) => {
    if (ctx.config.adminToken === undefined) throw adminApiDisabled();
    const header = req.headers.authorization;
    if (!header) {
      const session = await consoleSessionOf(ctx, req, reply);
      if (session?.kind === 'admin') return;
      if (session) throw unauthorized('UNAUTHORIZED', "the Console session is an organization member's: the admin API needs the operator's sign-in");
      throw unauthorized('UNAUTHORIZED', 'missing Authorization header: send "Bearer <admin token>"');
    }
    const token = bearerToken(header);
    if (token === undefined) throw unauthorized('UNAUTHORIZED', 'malformed Authorization header: expected "Bearer <admin token>"');
    checkAdminToken(token);
  });
}
