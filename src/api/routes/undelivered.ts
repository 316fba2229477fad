import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { retryUndelivered, undeliveredItem, undeliveredOf } from '../../domain/messages.js';
import { principalOf, requireCredential } from '../plugins/auth.js';
import { betterezErrors } from '../schemas.js';
import { pageLinks, pageOf, PageQuery } from './paging.js';

const BzDateSchema = Type.Object({ value: Type.String(), offset: Type.Integer() });

const UndeliveredSchema = Type.Object(
  {
    _id: Type.String({ description: 'This undelivered message (one message to one subscription), 24 hex.' }),
    eventId: Type.String({ description: 'The message id: the Pusher messageId or the Inventory envelope id.' }),
    event: Type.String({ description: 'The event name.' }),
    subscriptionUuid: Type.String(),
    url: Type.String({ description: "The subscription's destination." }),
    data: Type.Unknown({ description: 'The event payload.' }),
    state: Type.Union([Type.Literal('pending'), Type.Literal('failed')], {
      description: 'pending: not delivered yet, retried on schedule; failed: the schedule ran out (or the destination answered 410).',
    }),
    attempts: Type.Integer({ description: 'Attempts in the current schedule.' }),
    statusCode: Type.Union([Type.Integer(), Type.Null()], { description: "The last attempt's HTTP status, if it got one." }),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt failed.' }),
    createdAt: BzDateSchema,
    nextAttemptAt: Type.Union([BzDateSchema, Type.Null()]),
  },
  { $id: 'Undelivered' },
);

const IdParams = Type.Object({ id: Type.String({ description: '24 hexadecimal characters (400 INVALID_UNDELIVERED_ID otherwise).' }) });
const Resent = Type.Object({ resent: Type.Integer({ description: 'How many messages were queued again.' }) });

/**
 * Betterez's undelivered-webhooks endpoints (btrz-api-client's webhooks.undelivered:
 * all, getById, resend, resendAll) over Herald's attempt log, across the credential's
 * organization. Authenticated like the payment terminals (`x-api-key` and/or Bearer);
 * the credential sees the subscriptions of its mode whose events' scopes it holds.
 */
export default async function undeliveredRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx, { apiKeyHeader: true });
  app.addSchema(UndeliveredSchema);
  const common = { tags: ['undelivered webhooks'], security: [{ bearer: [] }, { apiKey: [] }] as Record<string, string[]>[] };
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  app.get(
    '/undelivered',
    {
      schema: {
        ...common,
        summary: 'Messages not delivered (yet), newest first, a page at a time.',
        querystring: PageQuery,
        response: {
          200: Type.Object({
            undelivered: Type.Array(Type.Ref('Undelivered')),
            next: Type.String({ description: 'The URL of the next page, or "".' }),
            previous: Type.String({ description: 'The URL of the previous page, or "".' }),
            count: Type.Integer(),
          }),
          ...betterezErrors(400, 401),
        },
      },
    },
    async (req) => {
      const page = pageOf(req);
      const r = await undeliveredOf(ctx, principalOf(req), page);
      return { undelivered: r.items, ...pageLinks(req, ctx.config, page, r.count), count: r.count };
    },
  );

  app.get(
    '/undelivered/:id',
    {
      schema: {
        ...common,
        summary: 'One undelivered message.',
        params: IdParams,
        response: { 200: Type.Object({ undelivered: Type.Ref('Undelivered') }), ...betterezErrors(400, 401, 404) },
      },
    },
    async (req) => ({ undelivered: await undeliveredItem(ctx, principalOf(req), idOf(req)) }),
  );

  app.put(
    '/undelivered/:id/retry',
    {
      schema: {
        ...common,
        summary: 'Send one undelivered message again now, with a fresh retry schedule.',
        params: IdParams,
        response: { 200: Resent, ...betterezErrors(400, 401, 404, 409) },
      },
    },
    async (req) => retryUndelivered(ctx, principalOf(req), idOf(req)),
  );

  app.put(
    '/undelivered/retry-all',
    {
      schema: { ...common, summary: 'Send every undelivered message again now.', response: { 200: Resent, ...betterezErrors(401) } },
    },
    async (req) => retryUndelivered(ctx, principalOf(req), null),
  );
}
