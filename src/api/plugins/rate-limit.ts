import { createHash } from 'node:crypto';
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import { HeraldError } from '../../errors.js';
import { bearerToken } from './bearer.js';
import { sessionCookieOf } from './console-cookie.js';

/**
 * Request-rate limits (issue 13 item 6), with @fastify/rate-limit's limiters:
 *
 * - **per credential** on the organization and business APIs, keyed by the SHA-256 of
 *   the credential presented (never the secret itself: the keys live in memory, where a
 *   heap dump would show them); requests without one count per client IP;
 * - **`POST /token`**, per client IP (guessing, floods), and per API key exchanged (a
 *   client that trades its key for a token on every call);
 * - **refused credentials** (401), per client IP, when turned on: a client presenting a
 *   fresh made-up credential every time gets a fresh per-credential count every time,
 *   and each refusal costs a lookup;
 * - **the admin API**, per client IP: a leaked or guessed admin token is the risk (its
 *   publish endpoint, a producer's path, counts per credential instead);
 *
 * Probes, metrics and the API reference are never limited (a Kubernetes probe must not
 * get 429). Every limit but the per-key one of `POST /token` (which needs the form) is
 * checked in onRequest, from the root, before any credential is looked up or any body
 * read, so a refused request costs a hash and a map lookup and changes nothing. A refusal is 429 TOO_MANY_REQUESTS with the spec's body (through the
 * app's error handler, so the Inventory API's paths get `code`/`message` too) and
 * `Retry-After`; every counted answer carries `x-ratelimit-limit`, `-remaining`, `-reset`.
 *
 * Windows are fixed, one minute, counted in this process's memory: N API processes
 * allow N times the limit (docs/operations.md says why that is acceptable).
 */

/** One minute: every limit is "requests a minute". */
export const RATE_LIMIT_WINDOW_MS = 60_000;
/** Keys one limiter remembers; past it the least recently seen is forgotten (its count restarts: fails open). */
export const RATE_LIMIT_MAX_KEYS = 10_000;

/** Paths that are never limited: probes, metrics, the API reference. */
const UNLIMITED = /^\/(?:healthz|readyz|metrics|openapi\.json|docs)(?:\/|$)/;
const TOKEN = /^\/token\/?$/;
/** The Console's sign-in (POST): an API key or the admin token is guessed here as at POST /token. */
const CONSOLE_SESSION = /^\/console\/session\/?$/;
/** The Console's own files. */
const CONSOLE_FILES = /^\/console(?:\/|$)/;
const ADMIN = /^\/admin(?:\/|$)/;
/**
 * The publish endpoints are how producers without a business API in Herald send their
 * events: a producer's volume, not an operator's. It counts per credential (the admin
 * token's hash), under the per-credential limit, not under the admin API's per-IP one.
 */
const PUBLISH = new Set(['/admin/organizations/:organizationUuid/events', '/admin/organizations/:organizationUuid/events/batch']);

/** Whether requests to this path (a URL path, or an OpenAPI path template) count against a rate limit. */
export const isRateLimited = (path: string): boolean => !UNLIMITED.test(path);

type Policy = 'unlimited' | 'credential' | 'token' | 'admin';

/** The limit a request counts against, by its route's path (by its own path when no route matched). */
function policyOf(req: FastifyRequest): Policy {
  const path = req.routeOptions.url ?? req.url.split('?')[0]!;
  if (!isRateLimited(path)) return 'unlimited';
  if (TOKEN.test(path) || (CONSOLE_SESSION.test(path) && req.method === 'POST')) return 'token';
  if (CONSOLE_FILES.test(path)) return 'unlimited';
  if (PUBLISH.has(path)) return 'credential';
  if (ADMIN.test(path)) return 'admin';
  return 'credential';
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

const clientIp = (req: FastifyRequest) => `ip:${normalizeIP(req.ip)}`;

/** The credential presented (Bearer token, else x-api-key, else a Console session), hashed; the client IP without one. */
function credentialKey(req: FastifyRequest): string {
  const authorization = req.headers.authorization;
  const apiKey = req.headers['x-api-key'];
  const presented = authorization
    ? (bearerToken(authorization) ?? authorization)
    : Array.isArray(apiKey)
      ? apiKey.join(',')
      : (apiKey?.trim() ?? sessionCookieOf(req));
  return presented ? `credential:${digest(presented)}` : clientIp(req);
}

/** The API key a `POST /token` (jwt-bearer grant) exchanges, hashed; undefined for other grants. */
function exchangedKey(req: FastifyRequest): string | undefined {
  const assertion = (req.body as Record<string, unknown> | undefined)?.assertion;
  return typeof assertion === 'string' && assertion !== '' ? `key:${digest(assertion)}` : undefined;
}

interface Window {
  count: number;
  startMs: number;
}

type StoreCallback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store of fixed windows in this process's memory, timed by Herald's clock (the
 * plugin's own store reads Date.now(), which tests cannot move), bounded to
 * RATE_LIMIT_MAX_KEYS keys, least recently seen forgotten first.
 */
function makeClockStore(clock: Clock) {
  return class ClockWindowStore {
    private readonly windows = new Map<string, Window>();

    private live(key: string, timeWindow: number, now: number): Window | undefined {
      const w = this.windows.get(key);
      return w && w.startMs + timeWindow > now ? w : undefined;
    }

    incr(key: string, cb: StoreCallback, timeWindow: number): void {
      const now = clock.now().getTime();
      const w = this.live(key, timeWindow, now) ?? { count: 0, startMs: now };
      w.count++;
      // Re-inserted, so the Map's order is least recently seen first.
      this.windows.delete(key);
      this.windows.set(key, w);
      if (this.windows.size > RATE_LIMIT_MAX_KEYS) this.windows.delete(this.windows.keys().next().value!);
      cb(null, { current: w.count, ttl: w.startMs + timeWindow - now });
    }

    read(key: string, cb: StoreCallback, timeWindow: number): void {
      const now = clock.now().getTime();
      const w = this.live(key, timeWindow, now);
      cb(null, w ? { current: w.count, ttl: w.startMs + timeWindow - now } : { current: 0, ttl: 0 });
    }

    child(): ClockWindowStore {
      return new ClockWindowStore();
    }
  };
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

/** A limiter and how its refusal explains itself ("for this credential"). */
interface Limiter {
  check: Check;
  scope: string;
}

function tooMany(reply: FastifyReply, limiter: Limiter, max: number, retryAfter: number): HeraldError {
  reply.header('retry-after', retryAfter);
  return new HeraldError(
    'too_many_requests',
    'TOO_MANY_REQUESTS',
    `too many requests ${limiter.scope}: at most ${max} a minute; retry in ${retryAfter} s`,
  );
}

/** Counts the request; sets the x-ratelimit headers; throws 429 past the limit. */
async function count(limiter: Limiter, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const r = await limiter.check(req);
  if (r.isAllowed) return;
  reply.header('x-ratelimit-limit', r.max).header('x-ratelimit-remaining', r.remaining).header('x-ratelimit-reset', r.ttlInSeconds);
  if (r.isExceeded) throw tooMany(reply, limiter, r.max, r.ttlInSeconds);
}

/** Throws 429 when the limiter's count has reached its limit, without counting this request. */
async function refuseWhenReached(limiter: Limiter, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const r = await limiter.check(req, { increment: false });
  if (r.isAllowed || r.remaining > 0) return;
  reply.header('x-ratelimit-limit', r.max).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', r.ttlInSeconds);
  throw tooMany(reply, limiter, r.max, r.ttlInSeconds);
}

export interface RateLimitOptions {
  config: Pick<
    Config,
    'rateLimitCredentialPerMinute' | 'rateLimitTokenPerMinute' | 'rateLimitRefusedPerMinute' | 'rateLimitAdminPerMinute'
  >;
  clock: Clock;
}

export default fp(
  async function rateLimits(app: FastifyInstance, opts: RateLimitOptions) {
    const { config } = opts;
    await app.register(fastifyRateLimit, { global: false, store: makeClockStore(opts.clock) });
    /** A limiter of `max` requests a minute per key, or undefined when `max` is 0 (off). */
    const limiter = (max: number, scope: string, keyGenerator: (req: FastifyRequest) => string): Limiter | undefined =>
      max > 0 ? { check: app.createRateLimit({ max, timeWindow: RATE_LIMIT_WINDOW_MS, keyGenerator }), scope } : undefined;

    const perCredential = limiter(config.rateLimitCredentialPerMinute, 'for this credential', credentialKey);
    const refused = limiter(config.rateLimitRefusedPerMinute, 'with refused credentials from this address', clientIp);
    const tokenPerIp = limiter(config.rateLimitTokenPerMinute, 'to POST /token from this address', clientIp);
    // Keyed by the form's assertion, read after parsing; other grants are not counted here.
    const tokenPerKey = limiter(config.rateLimitTokenPerMinute, 'exchanging this API key', (req) => exchangedKey(req)!);
    const admin = limiter(config.rateLimitAdminPerMinute, 'to the admin API from this address', clientIp);

    app.addHook('onRequest', async (req, reply) => {
      switch (policyOf(req)) {
        case 'credential':
          if (refused) await refuseWhenReached(refused, req, reply);
          if (perCredential) await count(perCredential, req, reply);
          return;
        case 'token':
          if (tokenPerIp) await count(tokenPerIp, req, reply);
          return;
        case 'admin':
          if (admin) await count(admin, req, reply);
          return;
        case 'unlimited':
          return;
      }
    });

    if (tokenPerKey) {
      // After the form is parsed, before the grant looks the key up.
      app.addHook('preHandler', async (req, reply) => {
        if (policyOf(req) === 'token' && exchangedKey(req) !== undefined) await count(tokenPerKey, req, reply);
      });
    }

    if (refused) {
      app.addHook('onResponse', async (req, reply) => {
        if (reply.statusCode === 401 && policyOf(req) === 'credential') await refused.check(req);
      });
    }
  },
  { name: 'herald-rate-limit', dependencies: ['herald-error-handler'] },
);
