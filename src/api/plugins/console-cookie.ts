import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainContext } from '../../domain/context.js';
import {
  CSRF_HEADER,
  isCsrfTokenOf,
  readSession,
  SECURE_SESSION_COOKIE,
  SESSION_COOKIE,
  type ConsoleSession,
} from '../../domain/identity/console-sessions.js';
import type { Config } from '../../config.js';
import { forbidden, HeraldError } from '../../errors.js';

/** Methods that change nothing: a Console session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The Console session cookie's value, when the request carries one (cookies are parsed by @fastify/cookie). */
export const sessionCookieOf = (req: FastifyRequest): string | undefined =>
  req.cookies?.[SECURE_SESSION_COOKIE] || req.cookies?.[SESSION_COOKIE] || undefined;

/**
 * Whether the session cookie is Secure (and `__Host-` named): when the request came over
 * HTTPS, or Herald's public URL is https (a proxy in front ends TLS, trusted or not).
 */
export const isSecureSite = (req: FastifyRequest, config: Config): boolean =>
  req.protocol === 'https' || (config.publicUrl?.startsWith('https:') ?? false);

/**
 * The Console session of a request that presents no other credential: undefined without
 * the cookie; 401 when it is expired or not Herald's; 403 CSRF_TOKEN_INVALID when the
 * request would change something and lacks the session's CSRF token. An invalid cookie
 * is also cleared, so the browser stops sending it.
 */
export async function consoleSessionOf(ctx: DomainContext, req: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | undefined> {
  const value = sessionCookieOf(req);
  if (value === undefined) return undefined;
  let session: ConsoleSession;
  try {
    session = await readSession(ctx, value);
  } catch (err) {
    if (err instanceof HeraldError && err.kind === 'unauthorized') clearSessionCookie(req, reply);
    throw err;
  }
  // An answer for this browser's session only: no shared cache may keep it (an
  // Authorization header would forbid that by itself; a cookie does not).
  reply.header('cache-control', 'no-store').header('vary', 'Cookie');
  if (!SAFE_METHODS.has(req.method)) {
    const presented = req.headers[CSRF_HEADER];
    if (!isCsrfTokenOf(value, typeof presented === 'string' ? presented : undefined)) {
      throw forbidden(
        'CSRF_TOKEN_INVALID',
        `a change made with a Console session must carry its CSRF token in the ${CSRF_HEADER} header (GET /console/session answers it)`,
      );
    }
  }
  return session;
}

/** Sets the session cookie: HttpOnly (scripts cannot read it), SameSite=Strict, for every path, until the session expires. */
export function setSessionCookie(reply: FastifyReply, secure: boolean, value: string, expiresAt: Date): void {
  reply.setCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    expires: expiresAt,
  });
}

/** Clears whichever session cookie the request brought. */
export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  if (req.cookies?.[SECURE_SESSION_COOKIE]) {
    reply.clearCookie(SECURE_SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: true });
  }
  if (req.cookies?.[SESSION_COOKIE] || !req.cookies?.[SECURE_SESSION_COOKIE]) {
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
  }
}
