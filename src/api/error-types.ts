/**
 * Every errorType Herald answers with, by HTTP status, and when: the OpenAPI document's
 * error schemas list them (schemas.ts), so clients know the values each status carries.
 * Documentation only: the bodies are built by the error handler (plugins/error-handler.ts)
 * from HeraldError's kind (errors.ts) and Fastify's own 4xx.
 *
 * `on` narrows an errorType to one family of routes: `spec` (the spec's body) or
 * `inventory` (the Inventory API's paths, Betterez's body); without it, both.
 * test/api/openapi-lint.test.ts fails when code throws an errorType this table lacks, or
 * the table keeps one no code produces.
 */

export type ErrorFamily = 'spec' | 'inventory';

export interface ErrorTypeDoc {
  status: number;
  errorType: string;
  when: string;
  on?: ErrorFamily;
}

export const ERROR_TYPES: readonly ErrorTypeDoc[] = [
  {
    status: 400,
    errorType: 'VALIDATION_ERROR',
    when: 'A path, query or body field breaks its schema or an input rule (U+0000, a lone surrogate, a number out of range, JSON too deep or too large); `violations` names each field.',
  },
  { status: 400, errorType: 'INVALID_REQUEST', when: 'The request cannot be read: JSON or a form that does not parse, a path that does not decode.' },
  { status: 400, errorType: 'SUBSCRIPTION_ALREADY_EXIST', on: 'spec', when: 'A live subscription of the organization has this uuid.' },
  { status: 400, errorType: 'SUBSCRIPTION_LIMIT_REACHED', on: 'spec', when: 'The organization has HERALD_MAX_SUBSCRIPTIONS_PER_ORGANIZATION subscriptions.' },
  { status: 400, errorType: 'DESTINATION_NOT_ACCESSIBLE', on: 'spec', when: 'The TestMessage could not reach the destination (DNS, connection, TLS, timeout).' },
  { status: 400, errorType: 'UNKNOWN_EVENT', on: 'spec', when: 'Publish: the event is not in the catalog (GET /events).' },
  { status: 400, errorType: 'INVALID_PAYLOAD', on: 'spec', when: "Publish: the payload breaks the event's schema; `violations` names each field." },
  { status: 400, errorType: 'INVALID_PAYMENT_TERMINAL_ID', on: 'inventory', when: 'The path id is not 24 hexadecimal characters.' },
  { status: 400, errorType: 'WRONG_DATA', on: 'inventory', when: 'A payment terminal field is invalid; `violations` names each (`paymentTerminal.ip`).' },
  { status: 400, errorType: 'INVALID_UNDELIVERED_ID', on: 'inventory', when: 'The path id is not 24 hexadecimal characters.' },
  {
    status: 401,
    errorType: 'UNAUTHORIZED',
    when: 'No credential, or a malformed, expired, badly signed, revoked or unknown one (developerMessage says which).',
  },
  { status: 401, errorType: 'ADMIN_API_DISABLED', on: 'spec', when: 'An admin route, and HERALD_ADMIN_TOKEN is not set.' },
  { status: 403, errorType: 'FORBIDDEN', on: 'spec', when: "The path names another organization than the credential's." },
  { status: 403, errorType: 'CSRF_TOKEN_INVALID', when: "A change made with a Console session cookie, without the session's CSRF token in x-csrf-token." },
  { status: 403, errorType: 'INSUFFICIENT_SCOPE', when: 'The credential lacks a scope the route or the events need (developerMessage names them).' },
  { status: 404, errorType: 'CONSOLE_NOT_BUILT', on: 'spec', when: 'A Console page, and `npm run build` has not built the Console.' },
  { status: 404, errorType: 'SUBSCRIPTION_NOT_FOUND', on: 'spec', when: 'No such subscription in the organization.' },
  { status: 404, errorType: 'MESSAGE_NOT_FOUND', on: 'spec', when: 'The subscription has no such message.' },
  { status: 404, errorType: 'PRODUCT_NOT_FOUND', on: 'spec', when: 'No such product in the organization.' },
  { status: 404, errorType: 'PRODUCT_NOT_TRACKED', on: 'spec', when: 'The product is not tracked.' },
  { status: 404, errorType: 'LOCATION_NOT_FOUND', on: 'spec', when: 'No such inventory location.' },
  { status: 404, errorType: 'PURCHASE_NOT_FOUND', on: 'spec', when: 'No such purchase in the organization.' },
  { status: 404, errorType: 'ORGANIZATION_NOT_FOUND', on: 'spec', when: 'No such organization.' },
  { status: 404, errorType: 'API_KEY_NOT_FOUND', on: 'spec', when: 'No such API key in the organization.' },
  { status: 404, errorType: 'APP_CONNECTION_NOT_FOUND', on: 'spec', when: 'No such app connection in the organization.' },
  { status: 404, errorType: 'LISTENER_NOT_FOUND', on: 'spec', when: 'No such listener in the organization.' },
  { status: 404, errorType: 'LISTEN_REQUEST_NOT_FOUND', on: 'spec', when: 'No such request waits for an answer (answered already, or given up).' },
  { status: 404, errorType: 'PAYMENT_TERMINAL_NOT_FOUND', on: 'inventory', when: 'No such payment terminal in the account.' },
  { status: 404, errorType: 'UNDELIVERED_NOT_FOUND', on: 'inventory', when: 'No such undelivered message.' },
  { status: 405, errorType: 'METHOD_NOT_ALLOWED', on: 'spec', when: 'PUT without a subscription uuid in the path.' },
  { status: 409, errorType: 'PRODUCT_ALREADY_EXISTS', on: 'spec', when: 'A product of the organization has this uuid.' },
  { status: 409, errorType: 'PURCHASE_ALREADY_EXISTS', on: 'spec', when: 'A purchase of the organization has this uuid.' },
  { status: 409, errorType: 'SUBSCRIPTION_DELETED', on: 'spec', when: 'The subscription was deleted: its messages can be listed, not resent, and it receives no test event.' },
  { status: 409, errorType: 'LISTENER_STREAMING', on: 'spec', when: 'The listener already has a stream.' },
  { status: 409, errorType: 'MESSAGE_IN_FLIGHT', when: 'The message is being sent right now.' },
  { status: 409, errorType: 'PAYMENT_TERMINAL_NAME_ALREADY_EXISTS', on: 'inventory', when: 'Another terminal of the account has this name.' },
  { status: 412, errorType: 'PRECONDITION_FAILED', on: 'spec', when: "If-Match does not match the product's current etag; nothing changed." },
  { status: 413, errorType: 'PAYLOAD_TOO_LARGE', when: 'The body is over 1 MiB.' },
  { status: 414, errorType: 'URI_TOO_LONG', when: 'A path parameter is over 100 characters.' },
  { status: 415, errorType: 'UNSUPPORTED_MEDIA_TYPE', when: 'A body of a media type Herald does not parse (not JSON, a form or text/plain).' },
  {
    status: 422,
    errorType: 'VALIDATION_ERROR',
    on: 'spec',
    when: "A subscription's destination or contactEmail is missing or invalid; `violations` names each field.",
  },
  { status: 422, errorType: 'PURCHASE_AMOUNTS_DO_NOT_ADD_UP', on: 'spec', when: "The purchase's amounts do not add up; nothing is recorded." },
  { status: 422, errorType: 'PRODUCT_NOT_TRACKED', on: 'spec', when: 'A balance change names a product that is not tracked; nothing changes.' },
  { status: 422, errorType: 'VARIANT_NOT_FOUND', on: 'spec', when: 'A balance change names a variant the product lacks; nothing changes.' },
  { status: 429, errorType: 'TOO_MANY_REQUESTS', when: 'Over a rate limit (docs/operations.md); Retry-After says when to retry.' },
  {
    status: 431,
    errorType: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
    on: 'spec',
    when: "The request line or headers are too large for Node's HTTP parser (answered before any route, so always the spec's body).",
  },
  { status: 500, errorType: 'INTERNAL_SERVER_ERROR', when: 'An unexpected error; the details are logged, never sent.' },
  {
    status: 500,
    errorType: 'DESTINATION_RESPONDED_WITH_ERROR_CODE',
    on: 'spec',
    when: 'The destination answered the TestMessage with a non-2xx status.',
  },
  { status: 503, errorType: 'DATABASE_UNAVAILABLE', when: 'The database connection was lost (PostgreSQL); retry shortly.' },
  { status: 503, errorType: 'NOT_READY', on: 'spec', when: 'GET /readyz: the database is unreachable, or migrations are not applied yet.' },
];

/** The errorTypes a status carries on a family's routes. */
export function errorTypesOf(status: number, family: ErrorFamily): ErrorTypeDoc[] {
  return ERROR_TYPES.filter((e) => e.status === status && (e.on === undefined || e.on === family));
}

/** The statuses with at least one errorType on a family's routes. */
export function errorStatusesOf(family: ErrorFamily): number[] {
  return [...new Set(ERROR_TYPES.filter((e) => e.on === undefined || e.on === family).map((e) => e.status))];
}
