import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Request ids and one log line per request. The id is the caller's `X-Request-Id` when it
 * is a short token (so a proxy's id follows the request through), else a new UUID; it is
 * answered in `X-Request-Id` and labels every log line of the request (`requestId`). The
 * line names the route pattern, never the raw URL or a header (no ids, no credentials),
 * with the status and the time taken.
 */
export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's genReqId: the caller's id if sane, else a new one. */
export function requestIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
}

export default fp(
  async function requestLog(app: FastifyInstance, opts: { level: 'info' | 'debug' | 'off' }) {
    app.addHook('onRequest', async (req, reply) => {
      reply.header('X-Request-Id', req.id);
    });
    if (opts.level === 'off') return;
    const level = opts.level;
    app.addHook('onResponse', async (req, reply) => {
      req.log[level](
        { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
        'request',
      );
    });
  },
  { name: 'herald-request-log' },
);
