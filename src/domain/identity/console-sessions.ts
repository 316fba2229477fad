import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { decodeJwt } from 'jose';
import { unauthorized } from '../../errors.js';
import type { DomainContext } from '../context.js';
import type { Principal } from '../principal.js';
import { issueAccessToken, verifyAccessToken } from './access-tokens.js';
import { adminApiDisabled, adminTokenCheck } from './admin-token.js';
import { authenticateApiKey } from './authenticate.js';

/**
 * Console sign-in (issue 11). The browser never holds a credential its scripts can read:
 * signing in exchanges an API key for a short-lived access token, or the admin token for
 * an operator session, and the answer puts that in an HttpOnly, SameSite=Strict cookie.
 * Requests authenticated by the cookie then pass the same guards as a Bearer credential
 * (plugins/auth.ts, plugins/admin-auth.ts), and a change (any method but GET/HEAD) must
 * also carry the session's CSRF token in `x-csrf-token`.
 *
 * The cookie value says which kind it is: `o.<access token>` (an organization's) or
 * `a.<expiry seconds>.<HMAC>` (the operator's: keyed by the admin token, so changing the
 * admin token ends every operator session). Nothing is stored: a session lasts until it
 * expires (HERALD_CONSOLE_SESSION_SECONDS) or, for an organization, until its API key is
 * revoked (access tokens stop within HERALD_CREDENTIAL_CACHE_SECONDS).
 */

/**
 * The cookie's name: over HTTPS `__Host-herald_console` (the browser then takes it only
 * Secure, for this host and path /, so no sibling subdomain can plant one), else
 * `herald_console`.
 */
export const SESSION_COOKIE = 'herald_console';
export const SECURE_SESSION_COOKIE = '__Host-herald_console';
export const CSRF_HEADER = 'x-csrf-token';

export type ConsoleSession =
  | { kind: 'organization'; principal: Principal; expiresAt: Date }
  | { kind: 'admin'; expiresAt: Date };

export interface SignedIn {
  /** The cookie's value. */
  value: string;
  session: ConsoleSession;
}

const ORG_PREFIX = 'o.';
const ADMIN_PREFIX = 'a.';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

function adminMac(adminToken: string, exp: number): Buffer {
  return createHmac('sha256', sha256(`herald-console-admin\0${adminToken}`)).update(`admin.${exp}`).digest();
}

/** The CSRF token of a session: derived from the cookie, which a page's scripts cannot read. */
export function csrfTokenOf(cookieValue: string): string {
  return createHash('sha256').update(`herald-console-csrf\0${cookieValue}`).digest('base64url');
}

/** Whether `presented` is the session's CSRF token (constant time). */
export function isCsrfTokenOf(cookieValue: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const want = Buffer.from(csrfTokenOf(cookieValue));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** An organization member signs in with an API key (401 when unknown, revoked, expired). */
export async function signInWithApiKey(ctx: DomainContext, apiKey: string): Promise<SignedIn> {
  const principal = await authenticateApiKey(ctx, apiKey);
  const ttl = Math.min(ctx.config.consoleSessionSeconds, ctx.config.accessTokenTtlSeconds);
  const { accessToken } = await issueAccessToken(ctx, principal, ttl);
  const expiresAt = new Date((Math.floor(ctx.clock.now().getTime() / 1000) + ttl) * 1000);
  return { value: ORG_PREFIX + accessToken, session: { kind: 'organization', principal, expiresAt } };
}

/** An operator signs in with the admin token (401 when wrong or the admin API is off). */
export function signInWithAdminToken(ctx: DomainContext, adminToken: string): SignedIn {
  adminTokenCheck(ctx.config.adminToken)(adminToken);
  const expected = ctx.config.adminToken!;
  const exp = Math.floor(ctx.clock.now().getTime() / 1000) + ctx.config.consoleSessionSeconds;
  const value = `${ADMIN_PREFIX}${exp}.${adminMac(expected, exp).toString('base64url')}`;
  return { value, session: { kind: 'admin', expiresAt: new Date(exp * 1000) } };
}

/** The `exp` claim of a JWT, unverified; undefined when it does not decode or has none. */
function expiryOf(token: string): number | undefined {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

const expired = () => unauthorized('UNAUTHORIZED', 'the Console session has expired: sign in again');

/** The session a cookie holds, or 401 saying why (expired, signed for another admin token, malformed). */
export async function readSession(ctx: DomainContext, value: string): Promise<ConsoleSession> {
  if (value.startsWith(ORG_PREFIX)) {
    const token = value.slice(ORG_PREFIX.length);
    // Its expiry read once: an expired session says so in the Console's words; a token
    // that verifies has one (verifyAccessToken requires exp).
    const exp = expiryOf(token);
    if (exp !== undefined && exp * 1000 <= ctx.clock.now().getTime()) throw expired();
    const principal = await verifyAccessToken(ctx, token);
    return { kind: 'organization', principal, expiresAt: new Date(exp! * 1000) };
  }
  const m = /^a\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (m) {
    const expected = ctx.config.adminToken;
    if (expected === undefined) throw adminApiDisabled();
    const exp = Number(m[1]);
    if (!timingSafeEqual(Buffer.from(m[2]!, 'base64url'), adminMac(expected, exp))) {
      throw unauthorized('UNAUTHORIZED', 'the Console session is not valid any more (the admin token changed): sign in again');
    }
    if (exp * 1000 <= ctx.clock.now().getTime()) throw expired();
    return { kind: 'admin', expiresAt: new Date(exp * 1000) };
  }
  throw unauthorized('UNAUTHORIZED', 'malformed Console session cookie: sign in again');
}
