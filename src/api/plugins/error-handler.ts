import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HeraldError, type ErrorKind, type Violation } from '../../errors.js';
import { MAX_VIOLATIONS } from './input-rules.js';

/**
 * The Inventory API's paths (payment terminals, at the root and under /inventory, and
 * undelivered webhooks): their errors carry Betterez's `code` and `message` too, which
 * its clients read, whether a route matched or not.
 */
const INVENTORY_API_PATH = /^\/(?:inventory\/)?(?:payment-terminals|undelivered)(?:[/?#]|$)/;

/** Whether errors on this path (a URL, or an OpenAPI path template) carry Betterez's `code` and `message`. */
export const hasBetterezErrorBody = (url: string): boolean => INVENTORY_API_PATH.test(url);

/** The error body for a request: the spec's, plus `code`/`message` on the Inventory API's paths. */
export function bodyFor(url: string, body: ErrorBody): ErrorBody | (ErrorBody & { code: string; message: string }) {
  return hasBetterezErrorBody(url) ? { code: body.errorType, message: body.developerMessage, ...body } : body;
}

/** The spec's error body. */
export interface ErrorBody {
  developerMessage: string;
  errorType: string;
  violations: Violation[];
}

export const STATUS_OF: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  too_many_requests: 429,
  destination_error: 500,
  unavailable: 503,
};

const ERROR_TYPE_OF_STATUS: Record<number, string> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/** Turns Ajv's errors into the spec's violations, named after the offending property. */
function violationsOf(err: FastifyError): Violation[] {
  return (err.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const path = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const propertyName = missing ? (path ? `${path}.${missing}` : missing) : path || (err.validationContext ?? 'request');
    return { propertyName, developerMessage: v.message ?? 'is invalid' };
  });
}

/**
 * Fastify's routing errors (a URL that does not decode, a path parameter over the length
 * limit) happen before any route runs; this gives them the spec's body too.
 */
export function frameworkErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  void reply.status(status).send(bodyFor(req.url, errorBody(error.message, ERROR_TYPE_OF_STATUS[status] ?? 'INVALID_REQUEST')));
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers or request
 * line too large, malformed HTTP), answered on the raw socket with the spec's body.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify(
    errorBody(status === 431 ? 'the request line or headers are too large' : 'malformed HTTP request', status === 431 ? 'REQUEST_HEADER_FIELDS_TOO_LARGE' : 'INVALID_REQUEST'),
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function errorBody(developerMessage: string, errorType: string, violations: Violation[] = []): ErrorBody {
  return { developerMessage, errorType, violations };
}

/**
 * Maps every error to the spec's body, once, for the whole app: HeraldError by kind,
 * schema validation to 400 with violations, Fastify's own 4xx (bad JSON, media type,
 * size) by status, and anything else to a 500 that says nothing about the internals.
 */
export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const send = (status: number, full: ErrorBody) => {
        // Bounded answers: a request that breaks a rule 100,000 times gets a handful of them.
        const body =
          full.violations.length > MAX_VIOLATIONS
            ? {
                ...full,
                developerMessage: `${full.developerMessage} (${full.violations.length} violations; the first ${MAX_VIOLATIONS} are listed)`,
                violations: full.violations.slice(0, MAX_VIOLATIONS),
              }
            : full;
        return reply.status(status).send(bodyFor(req.url, body));
      };
      if (err instanceof HeraldError) {
        const status = STATUS_OF[err.kind];
        if (status >= 500) req.log.warn({ errorType: err.errorType }, err.message);
        return send(status, errorBody(err.message, err.errorType, err.violations));
      }
      if (err.validation) {
        const violations = violationsOf(err);
        const first = violations[0];
        const message = first
          ? `invalid ${err.validationContext ?? 'request'}: ${first.propertyName} ${first.developerMessage}`
          : 'invalid request';
        return send(400, errorBody(message, 'VALIDATION_ERROR', violations));
      }
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return send(status, errorBody(err.message, ERROR_TYPE_OF_STATUS[status] ?? 'INVALID_REQUEST'));
      }
      req.log.error({ err }, 'unhandled error');
      return send(500, errorBody('Herald encountered an internal error; it has been logged.', 'INTERNAL_SERVER_ERROR'));
    });

    app.setNotFoundHandler((req, reply) => {
      reply.status(404).send(bodyFor(req.url, errorBody(`no route for ${req.method} ${req.url.split('?')[0]}`, 'NOT_FOUND')));
    });
  },
  { name: 'herald-error-handler' },
);
