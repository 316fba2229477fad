import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import {
  answerRequest,
  createListener,
  endListener,
  LISTEN_REQUEST_CHANNEL,
  listenerOf,
  releaseRequests,
  sweepStaleListeners,
  takeRequests,
  touchListeners,
  type ListenAnswer,
} from '../../domain/listeners.js';
import { coalesced } from '../../coalesce.js';
import { conflict } from '../../errors.js';
import { principalOf, requireCredential, resolveOrganizationUuid } from '../plugins/auth.js';
import { errors, OrgParams } from '../schemas.js';

// The stream says it is alive this often (a comment line), and marks its listeners seen.
const PING_MS = 15_000;
// Listeners whose stream is gone are ended this often, by every API process.
const SWEEP_MS = 30_000;
// Requests pushed per read of listen_requests.
const PUSH_BATCH = 100;

const ListenerParams = Type.Object({ ...OrgParams.properties, listenerId: Type.String({ format: 'uuid' }) });
const AnswerParams = Type.Object({ ...ListenerParams.properties, requestId: Type.String({ format: 'uuid' }) });

const ListenerSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: "The listener's id; also its subscription's uuid (messages, attempts, resend)." }),
    eventNames: Type.Array(Type.String(), { description: 'The events it receives.' }),
    signingKey: Type.String({ description: 'The key its deliveries are signed with, as a subscription\'s.' }),
    timeoutMs: Type.Integer({ description: 'How long Herald waits for the answer of one delivery.' }),
  },
  { $id: 'Listener' },
);

const AnswerBody = Type.Union(
  [
    Type.Object(
      {
        status: Type.Integer({ minimum: 100, maximum: 599, description: "The local server's HTTP status." }),
        latencyMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
        excerpt: Type.Optional(Type.String({ maxLength: 4096, description: 'The first bytes of its answer.' })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        error: Type.Union([Type.Literal('connect'), Type.Literal('timeout'), Type.Literal('other')], {
          description: 'Why the local server gave no answer.',
        }),
        message: Type.String({ maxLength: 500 }),
        latencyMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'ListenAnswer', description: "What the CLI reports of the local server's answer to one request." },
);

/**
 * `herald listen` (Herald's extension, issue 10): a listener receives the organization's
 * events over a server-sent-events stream and reports what the developer's local server
 * answered. See domain/listeners.ts and delivery/listen-relay.ts.
 */
export default async function listenerRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx);
  app.addSchema(ListenerSchema);
  app.addSchema(AnswerBody);
  const tags = ['listen (Herald extension)'];
  const security = [{ bearer: [] }];

  // The streams this process holds, by listener id (one each).
  const streams = new Map<string, ServerResponse>();
  // Set when the server starts closing: from then on no stream opens (see preClose).
  let closing = false;
  /** Writes to a stream that is still open; false when it is not (it closed meanwhile). */
  const write = (res: ServerResponse | undefined, text: string): boolean => {
    if (!res || res.writableEnded || res.destroyed) return false;
    res.write(text);
    return true;
  };
  /** Closes a stream this process holds (the CLI reconnects, or learns its listener ended). */
  const close = (listenerId: string) => {
    const res = streams.get(listenerId);
    streams.delete(listenerId);
    if (res && !res.writableEnded) res.end();
  };

  /** Pushes every request waiting for the streams held here (woken by each commit of one). */
  const push = coalesced(async () => {
    if (streams.size === 0) return false;
    try {
      const rows = await takeRequests(ctx, [...streams.keys()], PUSH_BATCH);
      const unsent: string[] = [];
      for (const r of rows) {
        const data = JSON.stringify({ id: r.id, headers: r.headers, body: r.body });
        if (!write(streams.get(r.listener_id), `event: request\nid: ${r.id}\ndata: ${data}\n\n`)) unsent.push(r.id);
      }
      // Taken for a stream that closed meanwhile: the next stream of the listener gets them.
      if (unsent.length > 0) await releaseRequests(ctx, unsent);
      return rows.length === PUSH_BATCH; // a full batch: maybe more
    } catch (err) {
      ctx.log.warn({ err }, 'pushing requests to herald listen failed; the next wake-up tries again');
      return false;
    }
  });
  const unlisten = await ctx.db.listen(LISTEN_REQUEST_CHANNEL, () => void push());

  // Each stream says it is alive, and its listener is marked seen; a listener ended
  // elsewhere (DELETE on another process, the sweep, a revoked key) loses its stream.
  const ping = setInterval(() => {
    if (streams.size === 0) return;
    for (const res of streams.values()) write(res, ': ping\n\n');
    touchListeners(ctx, [...streams.keys()])
      .then((live) => {
        const alive = new Set(live);
        for (const id of [...streams.keys()]) if (!alive.has(id)) close(id);
      })
      .catch((err: unknown) => ctx.log.warn({ err }, 'marking listeners seen failed'));
  }, PING_MS);
  ping.unref();
  const sweep = setInterval(() => {
    sweepStaleListeners(ctx).catch((err: unknown) => ctx.log.warn({ err }, 'ending stale listeners failed'));
  }, SWEEP_MS);
  sweep.unref();
  // Before the server waits for its requests to finish: a stream never does by itself.
  // Every stream ends here, whatever the timing: one whose request is still being
  // authorized or looked up sees `closing` and never opens, and an open one loses its
  // connection too (ended, then destroyed: a client that stopped reading would otherwise
  // hold it, and the server's close with it, until its buffered events drain).
  // The listeners stay: a CLI reconnects to another process, or to this one restarted.
  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(ping);
    clearInterval(sweep);
    for (const [id, res] of [...streams]) {
      close(id);
      res.destroy();
    }
    await unlisten();
  });

  const listenerFor = async (req: FastifyRequest) => {
    const { organizationUuid, listenerId } = req.params as { organizationUuid: string; listenerId: string };
    return listenerOf(ctx, principalOf(req), resolveOrganizationUuid(req, organizationUuid), listenerId);
  };

  app.post(
    '/organizations/:organizationUuid/listeners',
    {
      schema: {
        tags,
        security,
        summary: 'Start a listener (what `herald listen` does).',
        description:
          'A listener is a temporary subscription whose deliveries go through a stream (GET .../stream) instead of HTTP; only the ' +
          'credential that started it may use it. eventNames absent or empty: every event the credential\'s scopes allow. It ends ' +
          'on DELETE, when its credential is revoked, or a minute without a stream (a closed stream may be reopened meanwhile: ' +
          'requests wait for it). 403 INSUFFICIENT_SCOPE for events whose scope is missing.',
        params: OrgParams,
        body: Type.Optional(Type.Object({ eventNames: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })) })),
        response: { 201: Type.Ref('Listener'), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const org = resolveOrganizationUuid(req, (req.params as { organizationUuid: string }).organizationUuid);
      const body = (req.body ?? {}) as { eventNames?: string[] };
      return reply.status(201).send(await createListener(ctx, principalOf(req), org, body));
    },
  );

  app.get(
    '/organizations/:organizationUuid/listeners/:listenerId/stream',
    {
      schema: {
        tags,
        security,
        summary: "A listener's deliveries, as server-sent events.",
        description:
          'text/event-stream: `ready` once, then one `request` event per delivery, data {"id", "headers", "body"}: the exact ' +
          'signed request to forward. Report each answer with POST .../answers/{id}. A comment line every 15 s keeps it open. ' +
          'Reopen it after a disconnect (requests wait for it); DELETE the listener to end it. 409 LISTENER_STREAMING when it has ' +
          'a stream open already on this server.',
        params: ListenerParams,
        response: {
          200: { description: 'The event stream.', content: { 'text/event-stream': { schema: Type.String() } } },
          ...errors(401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const listener = await listenerFor(req);
      if (streams.has(listener.id)) throw conflict('LISTENER_STREAMING', 'this listener has a stream open already');
      reply.hijack();
      const res = reply.raw;
      // The client may be gone already (it closed while the listener was looked up).
      if (req.raw.destroyed || res.destroyed) return;
      // The server began closing while the listener was looked up: preClose has ended the
      // streams already and would never end this one. Fastify's own answer to a request
      // that arrives while it closes (return503OnClosing); the CLI reconnects.
      if (closing) {
        res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        res.end(JSON.stringify({ error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 }));
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        // The connection ends with the stream: it is never handed to another request.
        connection: 'close',
        'x-request-id': String(req.id),
      });
      res.on('error', (err) => ctx.log.debug({ err, listener: listener.id }, 'listen stream error'));
      res.on('close', () => {
        // The listener stays: its CLI reopens the stream (a minute without one ends it).
        if (streams.get(listener.id) === res) streams.delete(listener.id);
      });
      streams.set(listener.id, res);
      write(res, `event: ready\ndata: ${JSON.stringify({ id: listener.id })}\n\n`);
      await touchListeners(ctx, [listener.id]);
      void push();
    },
  );

  app.post(
    '/organizations/:organizationUuid/listeners/:listenerId/answers/:requestId',
    {
      schema: {
        tags,
        security,
        summary: "Report the local server's answer to one request of a listener.",
        description: '404 LISTEN_REQUEST_NOT_FOUND when no such request waits for an answer (answered already, or given up).',
        params: AnswerParams,
        body: Type.Ref('ListenAnswer'),
        response: { 204: Type.Null({ description: 'Recorded.' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const listener = await listenerFor(req);
      const { requestId } = req.params as { requestId: string };
      await answerRequest(ctx, listener, requestId, req.body as ListenAnswer);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/organizations/:organizationUuid/listeners/:listenerId',
    {
      schema: {
        tags,
        security,
        summary: 'End a listener (its subscription is deleted).',
        params: ListenerParams,
        response: { 204: Type.Null({ description: 'Ended.' }), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const listener = await listenerFor(req);
      close(listener.id);
      await endListener(ctx, listener, 'ended by its CLI');
      return reply.status(204).send();
    },
  );
}
