import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthorized } from '../../errors.js';
import { bearerToken } from './bearer.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Guards every route registered in this encapsulated context with the admin token
 * (`Authorization: Bearer <token>`), compared in constant time.
 */
export function requireAdminToken(app: FastifyInstance, adminToken: string | undefined): void {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  app.addHook('onRequest', async (req) => {
    if (!expected) {
      throw unauthorized('ADMIN_API_DISABLED', 'the admin API is disabled: set HERALD_ADMIN_TOKEN to enable it');
    }
    const header = req.headers.authorization;
    if (!header) throw unauthorized('UNAUTHORIZED', 'missing Authorization header: send "Bearer <admin token>"');
    const token = bearerToken(header);
    if (token === undefined) throw unauthorized('UNAUTHORIZED', 'malformed Authorization header: expected "Bearer <admin token>"');
    if (!timingSafeEqual(digest(token), expected)) throw unauthorized('UNAUTHORIZED', 'invalid admin token');
  });
}
