import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { csrfTokenOf, signInWithAdminToken, signInWithApiKey, type ConsoleSession } from '../../domain/identity/console-sessions.js';
import { getOrganization } from '../../domain/organizations.js';
import { badRequest, forbidden, HeraldError, unauthorized } from '../../errors.js';
import { clearSessionCookie, consoleSessionOf, isSecureSite, sessionCookieOf, setSessionCookie } from '../plugins/console-cookie.js';
import { errors } from '../schemas.js';

const SessionSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('organization'), Type.Literal('admin')], {
      description: "organization: an API key's sign-in, with the key's organization, scopes and mode; admin: the operator's (the admin token).",
    }),
    organizationUuid: Type.Union([Type.String(), Type.Null()]),
    organizationName: Type.Union([Type.String(), Type.Null()]),
    scopes: Type.Array(Type.String(), { description: "The credential's scopes (empty for the operator)." }),
    livemode: Type.Union([Type.Boolean(), Type.Null()], { description: 'false: a test-mode key; null for the operator.' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the session ends (HERALD_CONSOLE_SESSION_SECONDS after sign-in).' }),
    csrfToken: Type.String({ description: 'Send it as x-csrf-token with every change made with this session.' }),
  },
  { $id: 'ConsoleSession' },
);

/**
 * A sign-in from the Console's own page only. Another site's page could otherwise post
 * a form here and sign the visitor into the attacker's organization (login CSRF: a
 * top-level form post carries no cookie to steal, and SameSite does not stop the answer
 * from setting one). So: JSON only (a cross-site form cannot send it without a CORS
 * preflight, which Herald never grants), and when the browser says where the request
 * comes from (Sec-Fetch-Site, Origin), that must be this site.
 */
function refuseCrossSite(req: FastifyRequest, publicUrl: string | undefined): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw badRequest('VALIDATION_ERROR', 'sign in with a JSON body: {"apiKey": ...} or {"adminToken": ...}', [
      { propertyName: 'body', developerMessage: 'must be application/json' },
    ]);
  }
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  // By host: behind a proxy that ends TLS the scheme Herald sees is not the page's.
  const sameOrigin = origin === undefined || hostOf(origin) === req.host || (publicUrl !== undefined && hostOf(origin) === hostOf(publicUrl));
  if ((site !== undefined && site !== 'same-origin' && site !== 'none') || !sameOrigin) {
    throw forbidden('FORBIDDEN', "the Console's sign-in takes requests from the Console's own page only");
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * The Console's sign-in (issue 11): trades an API key or the admin token for a session
 * cookie (HttpOnly, SameSite=Strict). The Console then calls the same API routes as any
 * client, through the same guards; see domain/identity/console-sessions.ts.
 */
export default async function consoleSessionRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  app.addSchema(SessionSchema);

  async function describe(session: ConsoleSession, cookie: string) {
    const org = session.kind === 'organization' ? await getOrganization(ctx.db, session.principal.organizationUuid) : undefined;
    return {
      kind: session.kind,
      organizationUuid: org?.organizationUuid ?? null,
      organizationName: org?.name ?? null,
      scopes: session.kind === 'organization' ? [...session.principal.scopes] : [],
      livemode: session.kind === 'organization' ? session.principal.livemode : null,
      expiresAt: session.expiresAt.toISOString(),
      csrfToken: csrfTokenOf(cookie),
    };
  }

  app.post(
    '/console/session',
    {
      schema: {
        tags: ['console'],
        security: [],
        summary: 'Sign in to the Console with an API key or the admin token; sets the session cookie.',
        body: Type.Object(
          {
            apiKey: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: "An organization's API key." })),
            adminToken: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The admin token (HERALD_ADMIN_TOKEN).' })),
          },
          { additionalProperties: false, description: 'One of the two.' },
        ),
        response: { 200: Type.Ref('ConsoleSession'), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      refuseCrossSite(req, ctx.config.publicUrl);
      const body = req.body as { apiKey?: string; adminToken?: string };
      if ((body.apiKey === undefined) === (body.adminToken === undefined)) {
        throw badRequest('VALIDATION_ERROR', 'send either apiKey or adminToken', [
          { propertyName: 'apiKey', developerMessage: 'send exactly one of apiKey and adminToken' },
        ]);
      }
      const signedIn = body.apiKey !== undefined ? await signInWithApiKey(ctx, body.apiKey.trim()) : signInWithAdminToken(ctx, body.adminToken!);
      setSessionCookie(reply, isSecureSite(req, ctx.config), signedIn.value, signedIn.session.expiresAt);
      return reply.header('cache-control', 'no-store').send(await describe(signedIn.session, signedIn.value));
    },
  );

  app.get(
    '/console/session',
    {
      schema: {
        tags: ['console'],
        security: [{ consoleSession: [] }],
        summary: 'The Console session the cookie holds, with its CSRF token.',
        response: { 200: Type.Ref('ConsoleSession'), ...errors(401) },
      },
    },
    async (req, reply) => {
      const session = await consoleSessionOf(ctx, req, reply);
      if (!session) throw unauthorized('UNAUTHORIZED', 'not signed in to the Console');
      // consoleSessionOf made the answer no-store, as every answer read with the cookie.
      return describe(session, sessionCookieOf(req)!);
    },
  );

  app.delete(
    '/console/session',
    {
      schema: {
        tags: ['console'],
        security: [{ consoleSession: [] }],
        summary: 'Sign out: clears the session cookie (a valid session must send its CSRF token).',
        response: { 204: Type.Null({ description: 'Signed out.' }), ...errors(403) },
      },
    },
    async (req, reply) => {
      // An expired or foreign cookie is cleared too; a live one needs its CSRF token.
      try {
        await consoleSessionOf(ctx, req, reply);
      } catch (err) {
        if (!(err instanceof HeraldError && err.kind === 'unauthorized')) throw err;
      }
      clearSessionCookie(req, reply);
      return reply.status(204).send();
    },
  );
}
