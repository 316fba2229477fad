import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import { MAX_BATCH_EVENTS, publishEvent, publishEvents, type PayloadValidator, type PublishInput } from '../../../domain/publish.js';
import { listMails } from '../../../store/mails.js';
import { errors } from '../../schemas.js';

/** Admin: publish an event (internal producers) and list the mails sent to contacts. */
export default async function adminEventRoutes(app: FastifyInstance, opts: { ctx: DomainContext; validatePayload: PayloadValidator }) {
  const { ctx, validatePayload } = opts;

  app.post(
    '/admin/organizations/:organizationUuid/events',
    {
      schema: {
        tags: ['admin'],
        summary: 'Publish an event to the organization\'s subscriptions (payments, invoices, any producer without a business API here).',
        description:
          'Answers 202 once the event is committed to the outbox: it will reach every matching subscription at least once. ' +
          'The same messageId twice is one message. Unknown events and payloads that break the catalog\'s schema get 400.',
        security: [{ admin: [] }],
        params: Type.Object({ organizationUuid: Type.String({ format: 'uuid' }) }),
        body: Type.Object({
          eventName: Type.String({ examples: ['PaymentCreated'] }),
          payload: Type.Unknown({ description: 'The event payload (a JSON object).' }),
          messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Idempotency key; a UUID is generated when absent.' })),
          livemode: Type.Optional(Type.Boolean({ default: true })),
        }),
        response: {
          202: Type.Object({ messageId: Type.String(), duplicate: Type.Boolean(), deliveries: Type.Integer() }),
          ...errors(400, 401, 404),
        },
      },
    },
    async (req, reply) => {
      const { organizationUuid } = req.params as { organizationUuid: string };
      return reply.status(202).send(await publishEvent(ctx, validatePayload, organizationUuid, req.body as PublishInput));
    },
  );

  const PublishedSchema = Type.Object({ messageId: Type.String(), duplicate: Type.Boolean(), deliveries: Type.Integer() });
  app.post(
    '/admin/organizations/:organizationUuid/events/batch',
    {
      schema: {
        tags: ['admin'],
        summary: `Publish up to ${MAX_BATCH_EVENTS} events at once, all or none.`,
        description:
          'Each event as in the single publish. Every event is checked first: one unknown event or bad payload gets 400 naming it ' +
          '(`events[i]...`) and nothing is stored. Then all are committed together and the answer, 202, lists each event\'s ' +
          'messageId in order; an event whose messageId was already published is a duplicate, as in the single publish.',
        security: [{ admin: [] }],
        params: Type.Object({ organizationUuid: Type.String({ format: 'uuid' }) }),
        body: Type.Object({
          events: Type.Array(
            Type.Object({
              eventName: Type.String({ examples: ['PaymentCreated'] }),
              payload: Type.Unknown({ description: 'The event payload (a JSON object).' }),
              messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              livemode: Type.Optional(Type.Boolean({ default: true })),
            }),
            { minItems: 1, maxItems: MAX_BATCH_EVENTS },
          ),
        }),
        response: {
          202: Type.Object({ messages: Type.Array(PublishedSchema) }),
          ...errors(400, 401, 404),
        },
      },
    },
    async (req, reply) => {
      const { organizationUuid } = req.params as { organizationUuid: string };
      const { events } = req.body as { events: PublishInput[] };
      return reply.status(202).send({ messages: await publishEvents(ctx, validatePayload, organizationUuid, events) });
    },
  );

  app.get(
    '/admin/mails',
    {
      schema: {
        tags: ['admin'],
        summary: 'Mails to subscription contacts, newest first (sent or, without HERALD_SMTP_URL, only kept here).',
        description: 'Paging: a full page means there may be more: ask again with the last mail\'s `id` as `before`.',
        security: [{ admin: [] }],
        querystring: Type.Object({
          organizationUuid: Type.Optional(Type.String({ format: 'uuid' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only mails older than this one: the `id` of the last mail of the previous page.' })),
        }),
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.Integer(),
              organizationUuid: Type.String(),
              subscriptionUuid: Type.String(),
              kind: Type.String(),
              to: Type.String(),
              subject: Type.String(),
              body: Type.String(),
              created: Type.String(),
              sent: Type.Union([Type.String(), Type.Null()]),
              lastError: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const q = req.query as { organizationUuid?: string; limit?: number; before?: number };
      const rows = await listMails(ctx.db, { organizationUuid: q.organizationUuid, limit: q.limit ?? 100, beforeId: q.before });
      return rows.map((m) => ({
        id: m.id,
        organizationUuid: m.organization_uuid,
        subscriptionUuid: m.subscription_uuid,
        kind: m.kind,
        to: m.to_address,
        subject: m.subject,
        body: m.body,
        created: m.created_at.toISOString(),
        sent: m.sent_at?.toISOString() ?? null,
        lastError: m.last_error,
      }));
    },
  );
}
