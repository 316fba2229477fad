import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainContext } from '../../domain/context.js';
import { authenticateBearer } from '../../domain/identity/authenticate.js';
import type { Principal } from '../../domain/principal.js';
import type { Scope } from '../../domain/scopes.js';
import { forbidden, HeraldError, unauthorized } from '../../errors.js';
import { bearerToken } from './bearer.js';
import { consoleSessionOf, sessionCookieOf } from './console-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /**
     * The scopes the route needs: checked with the credential, before the body is read
     * or validated, so a credential without them costs Herald no parsing.
     */
    scopes?: readonly Scope[];
  }
}

/** How a route context accepts credentials. */
export interface CredentialOptions {
  /**
   * Also accept `x-api-key: <API key>` (the Betterez clients' header: reads send only it,
   * writes send it beside a Bearer token). With both, they must be of one organization,
   * and the Bearer credential is the principal.
   */
  apiKeyHeader?: boolean;
  /**
   * Also accept an organization's Console session cookie (when no header is sent): only
   * on the routes the Console calls (subscriptions, their messages and stats), so a
   * session opens no more than the page needs.
   */
  consoleSession?: boolean;
}

async function authenticateOrExplain(ctx: DomainContext, reply: FastifyReply, token: string): Promise<Principal> {
  try {
    return await authenticateBearer(ctx, token);
  } catch (err) {
    // RFC 6750: a rejected bearer credential is invalid_token (the body says why).
    if (err instanceof HeraldError && err.kind === 'unauthorized') reply.header('www-authenticate', 'Bearer error="invalid_token"');
    throw err;
  }
}

/**
 * Requires a credential (`Authorization: Bearer <access token or API key>`, or with
 * `apiKeyHeader` an `x-api-key` header, or, with neither, an organization's Console
 * session cookie, whose changes need its CSRF token) on every route registered in this
 * encapsulated context; sets req.principal. 401 otherwise, with a developerMessage that
 * says why (missing, malformed, expired, bad signature, revoked, unknown).
 */
export function requireCredential(app: FastifyInstance, ctx: DomainContext, opts: CredentialOptions = {}): void {
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization;
    const xApiKey = opts.apiKeyHeader ? req.headers['x-api-key'] : undefined;
    if (Array.isArray(xApiKey)) throw unauthorized('UNAUTHORIZED', 'send one x-api-key header, not several');
    if (!header && !xApiKey) {
      const session = opts.consoleSession ? await consoleSessionOf(ctx, req, reply) : undefined;
      if (session?.kind === 'admin') {
        throw unauthorized('UNAUTHORIZED', "the Console session is an operator's: organization routes need a sign-in with the organization's API key");
      }
      if (session) {
        req.principal = session.principal;
        guard(req);
        return;
      }
      reply.header('www-authenticate', 'Bearer');
      if (!opts.consoleSession && sessionCookieOf(req)) {
        throw unauthorized('UNAUTHORIZED', 'this route takes an Authorization header: a Console session opens only the routes the Console calls');
      }
      throw unauthorized(
        'UNAUTHORIZED',
        `missing Authorization header: send "Bearer <access token or API key>"${opts.apiKeyHeader ? ' or an x-api-key header' : ''}`,
      );
    }
    const keyPrincipal = xApiKey ? await authenticateOrExplain(ctx, reply, xApiKey.trim()) : undefined;
    if (!header) {
      req.principal = keyPrincipal;
      guard(req);
      return;
    }
    const token = bearerToken(header);
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer error="invalid_request"');
      throw unauthorized('UNAUTHORIZED', 'malformed Authorization header: expected "Bearer <access token or API key>"');
    }
    const principal = await authenticateOrExplain(ctx, reply, token);
    if (keyPrincipal && keyPrincipal.organizationUuid !== principal.organizationUuid) {
      throw unauthorized('UNAUTHORIZED', 'the x-api-key and the Bearer credential belong to different organizations');
    }
    req.principal = principal;
    guard(req);
  });
}

/**
 * The route's guards, once the credential is known and before the body is parsed: the
 * organization a path names must be the credential's (`self` or its uuid; else 403), and
 * the route's `config.scopes` must be held (else 403 INSUFFICIENT_SCOPE).
 */
function guard(req: FastifyRequest): void {
  const org = (req.params as { organizationUuid?: string } | undefined)?.organizationUuid;
  if (org !== undefined) resolveOrganizationUuid(req, org);
  const scopes = req.routeOptions.config?.scopes;
  if (scopes) requireScopes(principalOf(req), scopes);
}

/**
 * Who acts, for a business route: the principal, in the organization the path names
 * (checked by the guard before the handler runs).
 */
export function actorOf(req: FastifyRequest): Principal {
  const org = (req.params as { organizationUuid?: string } | undefined)?.organizationUuid;
  const principal = principalOf(req);
  return org === undefined ? principal : { ...principal, organizationUuid: resolveOrganizationUuid(req, org) };
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
