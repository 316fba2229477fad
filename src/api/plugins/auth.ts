import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DomainContext } from '../../domain/context.js';
import { authenticateBearer } from '../../domain/identity/authenticate.js';
import type { Principal } from '../../domain/principal.js';
import type { Scope } from '../../domain/scopes.js';
import { forbidden, HeraldError, unauthorized } from '../../errors.js';
import { bearerToken } from './bearer.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Requires a credential (`Authorization: Bearer <access token or API key>`) on every
 * route registered in this encapsulated context; sets req.principal. 401 otherwise,
 * with a developerMessage that says why (missing, malformed, expired, bad signature,
 * revoked, unknown).
 */
export function requireCredential(app: FastifyInstance, ctx: DomainContext): void {
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization;
    if (!header) {
      reply.header('www-authenticate', 'Bearer');
      throw unauthorized('UNAUTHORIZED', 'missing Authorization header: send "Bearer <access token or API key>"');
    }
    const token = bearerToken(header);
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer error="invalid_request"');
      throw unauthorized('UNAUTHORIZED', 'malformed Authorization header: expected "Bearer <access token or API key>"');
    }
    try {
      req.principal = await authenticateBearer(ctx, token);
    } catch (err) {
      // RFC 6750: a rejected bearer credential is invalid_token (the body says why).
      if (err instanceof HeraldError && err.kind === 'unauthorized') reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw err;
    }
  });
}

/** The authenticated principal of a request that passed requireCredential. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('route is missing requireCredential');
  return req.principal;
}

/**
 * The organization a path names: `self` is the credential's organization; any other
 * value must be it, else 403 (which reveals nothing about the other organization).
 */
export function resolveOrganizationUuid(req: FastifyRequest, pathValue: string): string {
  const p = principalOf(req);
  if (pathValue === 'self' || pathValue.toLowerCase() === p.organizationUuid) return p.organizationUuid;
  throw forbidden('FORBIDDEN', 'the credential does not grant access to this organization');
}

/** 403 unless the principal holds every scope; the message names the missing ones. */
export function requireScopes(principal: Principal, scopes: readonly Scope[]): void {
  const missing = scopes.filter((s) => !principal.scopes.includes(s));
  if (missing.length > 0) {
    throw forbidden('INSUFFICIENT_SCOPE', `the credential lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
}
