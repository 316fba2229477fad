import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { OAuthError } from '../../domain/identity/oauth-error.js';
import { grantForApiKey, grantForRefreshToken } from '../../domain/identity/token-grants.js';
import { HeraldError } from '../../errors.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const TokenRequest = Type.Object(
  {
    grant_type: Type.String({ description: `${JWT_BEARER_GRANT} or refresh_token.` }),
    client_id: Type.Optional(
      Type.String({ description: "The OAuth client: any value with an API key (the token carries the key's client_id); required with refresh_token." }),
    ),
    assertion: Type.Optional(Type.String({ description: 'jwt-bearer: the API key.' })),
    refresh_token: Type.Optional(Type.String({ description: 'refresh_token: the refresh token (each works once).' })),
  },
  { description: 'application/x-www-form-urlencoded' },
);

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds (HERALD_ACCESS_TOKEN_TTL_SECONDS, default 7200).' }),
  refresh_token: Type.Optional(Type.String({ description: 'refresh_token grant: the replacement; the one sent stops working.' })),
});

const OAuthErrorBody = Type.Object(
  {
    error: Type.String({ description: 'invalid_request, invalid_client, invalid_grant or unsupported_grant_type (RFC 6749).' }),
    error_description: Type.String(),
  },
  { description: 'RFC 6749 error body (the token endpoint does not use the Pusher API error body).' },
);

/** One form field: a single string, or absent. A repeated field is invalid (RFC 6749 section 3.2). */
function field(form: Record<string, unknown>, name: string): string | undefined {
  const v = form[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `${name} must be sent once`);
  return v;
}

function required(form: Record<string, unknown>, name: string): string {
  const v = field(form, name);
  if (v === undefined) throw new OAuthError('invalid_request', `missing ${name}`);
  return v;
}

function sendOAuthError(reply: FastifyReply, err: OAuthError) {
  return reply
    .status(err.status)
    .header('cache-control', 'no-store')
    .send({ error: err.error, error_description: err.description });
}

/**
 * POST /token, the OAuth token endpoint (RFC 6749): an API key for an access token
 * (jwt-bearer grant, what the original's API-key clients do), or a refresh token for an
 * access token and a new refresh token. Errors use the OAuth body, not the spec's.
 */
export default async function tokenRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;

  app.post(
    '/token',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Exchange an API key (jwt-bearer grant) or a refresh token for an access token.',
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequest,
        response: { 200: TokenResponse, 400: OAuthErrorBody, 401: OAuthErrorBody },
      },
      // The grant code validates the form itself, to answer with OAuth error codes.
      validatorCompiler: () => () => true,
      errorHandler: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
        if (err instanceof OAuthError) return sendOAuthError(reply, err);
        // Herald's input rules (e.g. U+0000 in a field), answered in the OAuth body too.
        if (err instanceof HeraldError && err.kind === 'bad_request') return sendOAuthError(reply, new OAuthError('invalid_request', err.message));
        // Fastify's own 4xx (unsupported media type, unparsable form, body too large).
        if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
          return sendOAuthError(reply, new OAuthError('invalid_request', err.message));
        }
        throw err; // to the app's error handler: a 500 that says nothing
      },
    },
    async (req, reply) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        throw new OAuthError('invalid_request', 'the token endpoint takes an application/x-www-form-urlencoded body');
      }
      const form = (req.body ?? {}) as Record<string, unknown>;
      const grantType = required(form, 'grant_type');
      let body;
      if (grantType === JWT_BEARER_GRANT) {
        field(form, 'client_id'); // any value, sent once
        body = await grantForApiKey(ctx, { assertion: required(form, 'assertion') });
      } else if (grantType === 'refresh_token') {
        body = await grantForRefreshToken(ctx, {
          refreshToken: required(form, 'refresh_token'),
          clientId: required(form, 'client_id'),
        });
      } else {
        throw new OAuthError('unsupported_grant_type', `grant_type must be ${JWT_BEARER_GRANT} or refresh_token`);
      }
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(body);
    },
  );
}
