import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { attemptFeed, attemptsOf, messagesOf, resend, sendTestEvent, type LogScope, type MessageFilter } from '../../domain/messages.js';
import { badRequest } from '../../errors.js';
import { DestinationCapacitySchema } from '../destination-schema.js';
import { principalOf, resolveOrganizationUuid } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const MessageSchema = Type.Object({
  messageId: Type.String(),
  eventName: Type.String(),
  state: Type.Union(['pending', 'delivered', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
  attempts: Type.Integer({ description: 'Attempts in the current schedule (a resend starts a new one).' }),
  created: Type.String(),
  nextAttempt: Type.Union([Type.String(), Type.Null()]),
  finished: Type.Union([Type.String(), Type.Null()]),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
const AttemptSchema = Type.Object({
  attemptId: Type.String(),
  started: Type.String(),
  latencyMs: Type.Integer(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  errorClass: Type.Union([Type.String(), Type.Null()], {
    description: 'http_status, redirect, timeout, connect, dns, tls, unsafe_destination or other.',
  }),
  errorMessage: Type.Union([Type.String(), Type.Null()]),
  responseExcerpt: Type.Union([Type.String(), Type.Null()], { description: 'The first 4 KiB of the answer.' }),
});
const AttemptRequestSchema = Type.Object(
  {
    method: Type.Literal('POST'),
    url: Type.String({ description: "The subscription's destination (as it is now: an update since changes it)." }),
    headers: Type.Record(Type.String(), Type.String(), {
      description:
        'The headers Herald set, names as sent. Signatures masked (`v1,••••••••`: the scheme kept, the secret part replaced; one per header ' +
        "even where a key rotation's overlap sent two). Not listed: the HTTP client's own (Host, Content-Length, Connection) and a tracing `traceparent`.",
    }),
    body: Type.String({ description: 'The body, byte for byte as sent.' }),
  },
  {
    description:
      "The request of this attempt, rebuilt by the code that sent it from the stored event, the attempt's id and start. " +
      'Null when nothing was built (its signing key did not open: errorMessage says so).',
  },
);
const LoggedAttemptSchema = Type.Object({ ...AttemptSchema.properties, request: Type.Union([AttemptRequestSchema, Type.Null()]) });
const Params = Type.Object({ organizationUuid: Type.String(), subscriptionUuid: Type.String() });
const MessageParams = Type.Object({ ...Params.properties, messageId: Type.String() });
const ListQuery = Type.Object({
  state: Type.Optional(
    Type.Union(['all', 'undelivered', 'pending', 'delivered', 'failed', 'cancelled'].map((s) => Type.Literal(s)), {
      description: 'undelivered: pending, failed and cancelled. Default: all.',
    }),
  ),
  eventName: Type.Optional(Type.String({ maxLength: 100, description: 'Only messages of this event (exact name).' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only messages created at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only messages created before this time.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'Paging: the `cursor` of the previous page (with the same filters).' })),
});

/** A query's date-time as a Date: the schema's format admits a leap second (23:59:60), which Date does not. */
function dateOf(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw badRequest('VALIDATION_ERROR', `${name} must be a date-time`, [{ propertyName: name, developerMessage: 'must be a date-time' }]);
  }
  return d;
}

/**
 * The attempt log and resend of one subscription. `admin`: under /admin, by the admin
 * token, deleted subscriptions included; otherwise under /organizations with a
 * credential holding the subscription's scopes.
 */
export default async function messageRoutes(app: FastifyInstance, opts: { ctx: DomainContext; admin: boolean }) {
  const { ctx, admin } = opts;
  const base = `${admin ? '/admin' : ''}/organizations/:organizationUuid/subscriptions/:subscriptionUuid`;
  const tags = [admin ? 'admin' : 'attempt log'];
  const security: Record<string, string[]>[] = [{ [admin ? 'admin' : 'bearer']: [] }, { consoleSession: [] }];

  function scopeOf(req: FastifyRequest): LogScope {
    const p = req.params as { organizationUuid: string; subscriptionUuid: string };
    if (admin) return { organizationUuid: p.organizationUuid, subscriptionUuid: p.subscriptionUuid, includeDeleted: true };
    return {
      organizationUuid: resolveOrganizationUuid(req, p.organizationUuid),
      subscriptionUuid: p.subscriptionUuid,
      includeDeleted: false,
      principal: principalOf(req),
    };
  }

  if (!admin) {
    app.get(
      '/organizations/:organizationUuid/attempts',
      {
        schema: {
          tags,
          security,
          summary: "The organization's delivery attempts as they happen, oldest first (what `herald tail` follows).",
          description:
            'Without `after`: the newest attempts. Then pass the answer\'s `cursor` as `after` to get the ones since. ' +
            'Only subscriptions of the credential\'s mode whose events\' scopes it holds. A read looks at most at the next ' +
            '5,000 attempts of every organization, so a page may be empty while `cursor` moves on.',
          params: Type.Object({ organizationUuid: Params.properties.organizationUuid }),
          querystring: Type.Object({
            after: Type.Optional(Type.Integer({ minimum: 0, description: 'The `cursor` of the previous read.' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            subscription: Type.Optional(Type.String({ format: 'uuid', description: "Only this subscription's (or listener's) attempts." })),
            eventName: Type.Optional(Type.String({ maxLength: 100, description: 'Only attempts to deliver this event.' })),
            outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
          }),
          response: {
            200: Type.Object({
              attempts: Type.Array(
                Type.Object({
                  id: Type.Integer({ description: 'The attempt\'s place in the feed.' }),
                  subscriptionUuid: Type.String(),
                  eventName: Type.String(),
                  messageId: Type.String(),
                  ...AttemptSchema.properties,
                }),
              ),
              cursor: Type.Integer({
                description:
                  'Pass as `after` to read on. It stays behind attempts of the last 5 s (attempts recorded side by side may ' +
                  'commit out of order), so those come again: drop the ids already shown.',
              }),
              more: Type.Boolean({ description: 'More attempts are ready: read on now rather than after a pause.' }),
            }),
            ...errors(400, 401, 403),
          },
        },
      },
      async (req) => {
        const org = resolveOrganizationUuid(req, (req.params as { organizationUuid: string }).organizationUuid);
        const q = req.query as { after?: number; limit?: number; subscription?: string; eventName?: string; outcome?: 'success' | 'failure' };
        return attemptFeed(ctx, principalOf(req), org, {
          after: q.after,
          limit: q.limit ?? 100,
          subscriptionUuid: q.subscription,
          eventName: q.eventName,
          outcome: q.outcome,
        });
      },
    );
  }

  app.get(
    `${base}/messages`,
    {
      schema: {
        tags,
        security,
        summary: "List a subscription's messages, newest first, with their delivery state.",
        params: Params,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            messages: Type.Array(MessageSchema),
            cursor: Type.Union([Type.Integer(), Type.Null()]),
            destination: DestinationCapacitySchema,
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const q = req.query as { state?: MessageFilter; eventName?: string; since?: string; until?: string; limit?: number; before?: number };
      return messagesOf(ctx, scopeOf(req), {
        filter: q.state ?? 'all',
        eventName: q.eventName,
        since: dateOf('since', q.since),
        until: dateOf('until', q.until),
        limit: q.limit ?? 100,
        before: q.before,
      });
    },
  );

  app.get(
    `${base}/messages/:messageId/attempts`,
    {
      schema: {
        tags,
        security,
        summary: 'Every attempt to deliver one message: time, status code, latency, error class, response excerpt, the request sent.',
        params: MessageParams,
        response: { 200: Type.Object({ message: MessageSchema, attempts: Type.Array(LoggedAttemptSchema) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => attemptsOf(ctx, scopeOf(req), (req.params as { messageId: string }).messageId),
  );

  app.post(
    `${base}/messages/:messageId/resend`,
    {
      schema: {
        tags,
        security,
        summary: 'Resend one message now, with a fresh retry schedule.',
        params: MessageParams,
        response: { 202: Type.Object({ resent: Type.Integer() }), ...errors(401, 403, 404, 409) },
      },
    },
    async (req, reply) => reply.status(202).send(await resend(ctx, scopeOf(req), (req.params as { messageId: string }).messageId)),
  );

  if (!admin) {
    app.post(
      `${base}/test-event`,
      {
        schema: {
          tags,
          security,
          summary: "Send one event's example payload (as GET /events shows it) to this subscription only, as a message like any other.",
          description:
            'Through the outbox: delivered, signed and retried like any message, and listed among its messages. `eventName`: one of ' +
            "the subscription's events (for a subscription to every event, any event the credential's scopes allow); default its first.",
          params: Params,
          body: Type.Optional(Type.Object({ eventName: Type.Optional(Type.String({ maxLength: 100 })) })),
          response: {
            202: Type.Object({ messageId: Type.String(), eventName: Type.String() }),
            ...errors(400, 401, 403, 404, 409),
          },
        },
        // No body at all is the empty one (the default event).
        preValidation: async (req) => {
          if (req.body === undefined) req.body = {};
        },
      },
      async (req, reply) => {
        const body = req.body as { eventName?: string } | undefined;
        return reply.status(202).send(await sendTestEvent(ctx, scopeOf(req), body?.eventName));
      },
    );
  }

  app.post(
    `${base}/resend`,
    {
      schema: {
        tags,
        security,
        summary: 'Resend every undelivered message (failed, cancelled, or waiting for a retry) now.',
        params: Params,
        response: { 202: Type.Object({ resent: Type.Integer() }), ...errors(401, 403, 404, 409) },
      },
    },
    async (req, reply) => reply.status(202).send(await resend(ctx, scopeOf(req), null)),
  );
}
