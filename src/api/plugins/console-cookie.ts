import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainContext } from '../../domain/context.js';
import { CSRF_HEADER, isCsrfTokenOf, readSession, SESSION_COOKIE, type ConsoleSession } from '../../domain/identity/console-sessions.js';
import { forbidden, HeraldError } from '../../errors.js';

/** Methods that change nothing: a Console session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The Console session cookie's value, when the request carries one (cookies are parsed by @fastify/cookie). */
export const sessionCookieOf = (req: FastifyRequest): string | undefined => req.cookies?.[SESSION_COOKIE] || undefined;

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
    if (err instanceof HeraldError && err.kind === 'unauthorized') clearSessionCookie(reply);
    throw err;
  }
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
export function setSessionCookie(reply: FastifyReply, req: FastifyRequest, value: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: req.protocol === 'https',
    expires: expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
}
