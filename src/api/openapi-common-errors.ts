import { STATUS_CODES } from 'node:http';
import { Type } from 'typebox';
import { errorStatusesOf, type ErrorFamily } from './error-types.js';
import { schemaRef, type OpenApiDocument, type OperationObject } from './openapi-document.js';
import { hasBetterezErrorBody } from './plugins/error-handler.js';
import { isRateLimited } from './plugins/rate-limit.js';
import { errorSchemaName } from './schemas.js';

/**
 * The error answers that do not depend on what a route does, documented on every
 * operation they can reach, once, here, rather than in every route file: the input rules
 * and parsers (400, 413, 415), the guards (401, 403), the router (414), the rate limits
 * (429), Node's HTTP parser (431), and 500/503. A status a route documents itself is
 * kept (its own description, or its own body, as POST /token's OAuth errors).
 *
 * Each is a shared response (`#/components/responses/Error429`, `BetterezError429` on the
 * Inventory API's paths) whose body is the status's error schema (schemas.ts).
 */

/** What each common answer means. */
const COMMON_ERRORS: Record<number, string> = {
  400: 'The request is invalid: a path, query or body field breaks its schema or an input rule, or the request cannot be read (JSON or a form that does not parse, a path that does not decode).',
  401: 'No valid credential (missing, malformed, expired, revoked or unknown).',
  403: "The path names another organization than the credential's, or the credential lacks a scope.",
  413: 'The body is over 1 MiB (1,048,576 bytes).',
  414: 'A path parameter is over 100 characters.',
  415: 'A body of a media type Herald does not parse (application/json, application/x-www-form-urlencoded and text/plain are parsed).',
  429: 'Over a rate limit (docs/operations.md, HERALD_RATE_LIMIT_*): retry after Retry-After seconds.',
  431: "The request line or headers are too large: Node's HTTP parser answers before any route runs, always with the spec's body.",
  500: 'An unexpected error: the details are logged, never sent.',
  503: "The database is unavailable (retry shortly). While Herald shuts down, Fastify answers before any route runs, with its own body (ServerClosingBody).",
};

/** Routes whose own error handler answers the parsers' 4xx (413, 415) as their 400: POST /token (RFC 6749's invalid_request). */
const OWN_PARSER_ERRORS = new Set(['createToken']);

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** Fastify's answer to a request that arrives while the server closes (return503OnClosing), before any route. */
const ServerClosingBody = Type.Object(
  { error: Type.Literal('Service Unavailable'), message: Type.Literal('Service Unavailable'), statusCode: Type.Literal(503) },
  { description: "Fastify's body for a request that arrives while Herald shuts down: not the spec's error body." },
);

const RATE_LIMIT_HEADERS = {
  'Retry-After': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
  'x-ratelimit-limit': { description: 'Requests allowed a minute.', schema: { type: 'integer' } },
  'x-ratelimit-remaining': { description: 'Requests left in this window.', schema: { type: 'integer' } },
  'x-ratelimit-reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
};

/** The statuses an operation can answer whatever its handler does. */
function commonStatuses(path: string, method: string, op: OperationObject): number[] {
  const security = op.security ?? [];
  const admin = security.some((r) => 'admin' in r);
  const scoped = security.some((r) => Object.values(r).some((scopes) => scopes.length > 0));
  const guarded = security.length > 0 && !admin && (scoped || path.includes('{organizationUuid}'));
  const parsesBody = BODY_METHODS.has(method) && !OWN_PARSER_ERRORS.has(op.operationId ?? '');
  return [
    400,
    ...(security.length > 0 ? [401] : []),
    ...(guarded ? [403] : []),
    ...(parsesBody ? [413, 415] : []),
    ...(/\{[^}]+\}/.test(path) ? [414] : []),
    ...(isRateLimited(path) ? [429] : []),
    431,
    500,
    503,
  ];
}

/** The body family of a status on a path: Betterez's on the Inventory API's paths, where that status has one. */
function familyOf(path: string, status: number): ErrorFamily {
  return hasBetterezErrorBody(path) && errorStatusesOf('inventory').includes(status) ? 'inventory' : 'spec';
}

/** The shared response of a status and family. */
function responseOf(status: number, family: ErrorFamily) {
  const body = schemaRef(errorSchemaName(status, family));
  return {
    description: `${STATUS_CODES[status]}: ${COMMON_ERRORS[status]}`,
    ...(status === 429 ? { headers: RATE_LIMIT_HEADERS } : {}),
    content: { 'application/json': { schema: status === 503 ? { oneOf: [body, schemaRef('ServerClosingBody')] } : body } },
  };
}

/** Adds the common error answers to every operation of the document that lacks them. */
export function withCommonErrors(doc: OpenApiDocument): OpenApiDocument {
  const responses: Record<string, unknown> = { ...doc.components.responses };
  const schemas = { ...doc.components.schemas };
  const paths = Object.fromEntries(
    Object.entries(doc.paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([method, op]) => {
          const added: Record<string, unknown> = {};
          for (const status of commonStatuses(path, method, op)) {
            if (op.responses[status] !== undefined) continue;
            const family = familyOf(path, status);
            const name = errorSchemaName(status, family);
            responses[name] ??= responseOf(status, family);
            if (status === 503) schemas.ServerClosingBody ??= ServerClosingBody;
            added[status] = { $ref: `#/components/responses/${name}` };
          }
          // Status keys are integer-like: JSON keeps them in ascending order whatever the insertion order.
          return [method, { ...op, responses: { ...op.responses, ...added } }];
        }),
      ),
    ]),
  );
  return { ...doc, paths, components: { ...doc.components, schemas, responses } };
}
