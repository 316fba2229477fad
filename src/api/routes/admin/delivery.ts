import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../../domain/context.js';
import {
  deliveryBacklog,
  deliveryThroughput,
  MAX_THROUGHPUT_BUCKETS,
  PENDING_SCAN_CAP,
  troubledDestinations,
} from '../../../domain/delivery-overview.js';
import { DestinationCapacitySchema } from '../../destination-schema.js';
import { errors } from '../../schemas.js';

const DateTime = Type.String({ format: 'date-time' });
const cap = PENDING_SCAN_CAP.toLocaleString('en');

const BacklogSchema = Type.Object({
  pending: Type.Integer({ description: 'Deliveries pending: waiting to be sent, in flight, or waiting for a retry.' }),
  pendingCapped: Type.Boolean({
    description:
      `The counts stay cheap on any backlog: at most ${cap} pending deliveries of each kind (of unordered subscriptions, in ` +
      `claim order; of ordered ones, by subscription) are read. true: more are pending, and pending, due, retrying and ` +
      'oldestPendingCreated cover only those read (lower bounds; oldestDueAt of unordered deliveries stays exact).',
  }),
  due: Type.Integer({
    description:
      'Pending deliveries a claim could take now: their time has come and no worker holds them (one whose lease ran out is due ' +
      "again). Of an ordered subscription only its first pending delivery can be due; the others wait for it.",
  }),
  inFlight: Type.Integer({ description: 'Deliveries a worker holds now (its lease running), across the fleet.' }),
  retrying: Type.Integer({ description: 'Pending deliveries with at least one attempt behind them, not in flight.' }),
  oldestDueAt: Type.Union([DateTime, Type.Null()], { description: 'When the longest-waiting due delivery became due; null: none is due.' }),
  oldestDueAgeSeconds: Type.Union([Type.Number(), Type.Null()], {
    description: 'How late the queue is: now minus oldestDueAt. It stays near 0 while the workers keep up.',
  }),
  oldestPendingCreated: Type.Union([DateTime, Type.Null()], { description: 'When the oldest pending delivery was created (its event accepted).' }),
  unsentMails: Type.Integer({
    description: `Mails to subscription contacts not sent yet (waiting, or given up after 5 tries), counted up to ${cap}.`,
  }),
});

const ThroughputSchema = Type.Object({
  bucketSeconds: Type.Integer(),
  from: Type.String({ format: 'date-time', description: 'The start of the first bucket: the bucket holding now minus `hours`.' }),
  to: Type.String({ format: 'date-time', description: 'Now: attempts up to it are counted; the last bucket holds it and is still filling.' }),
  buckets: Type.Array(
    Type.Object({
      start: DateTime,
      successes: Type.Integer({ description: 'Attempts that started in the bucket and were delivered (2xx).' }),
      failures: Type.Integer({ description: 'Attempts that started in the bucket and failed (retried or given up).' }),
      p50LatencyMs: Type.Optional(Type.Integer({ description: "The median latency of the bucket's attempts; absent when it has none." })),
    }),
    {
      description:
        'Every bucket from `from` to the one holding `to`, oldest first, empty ones included (zeros): ' +
        'hours * 60 / bucketMinutes + 1 when bucketMinutes divides the hours.',
    },
  ),
});

const DestinationSchema = Type.Object({
  ...DestinationCapacitySchema.properties,
  failingSubscriptions: Type.Integer({ description: 'Live subscriptions to the origin whose status is FAILING.' }),
  pending: Type.Integer({ description: `Deliveries to the origin pending (counted among at most ${cap} pending deliveries of each kind).` }),
  oldestFailingSince: Type.Union([DateTime, Type.Null()], { description: 'When the longest-failing of those subscriptions began failing.' }),
});

/** Admin: the delivery engine at a glance (the Console's operator views). */
export default async function adminDeliveryRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;

  app.get(
    '/admin/delivery/backlog',
    {
      schema: {
        tags: ['admin'],
        summary: 'The delivery backlog: pending, due, in flight, retrying, and how late the queue is.',
        description:
          `Counted from the database at the time of the request, for the whole fleet. A read costs at most ${cap} pending rows ` +
          'of each kind, whatever the backlog (see pendingCapped).',
        security: [{ admin: [] }],
        response: { 200: BacklogSchema, ...errors(401) },
      },
    },
    async () => deliveryBacklog(ctx),
  );

  app.get(
    '/admin/delivery/throughput',
    {
      schema: {
        tags: ['admin'],
        summary: 'Delivery attempts over time: successes, failures and median latency per bucket.',
        description:
          "Attempts counted by the time they started. Buckets are aligned to multiples of their length since 1970-01-01T00:00Z " +
          `(hourly buckets start on the hour). hours * 60 / bucketMinutes must be at most ${MAX_THROUGHPUT_BUCKETS}, else ` +
          '400 VALIDATION_ERROR. A read costs the attempts of the window, not of the whole log.',
        security: [{ admin: [] }],
        querystring: Type.Object({
          hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'How far back.' })),
          bucketMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60 })),
          organizationUuid: Type.Optional(Type.String({ format: 'uuid', description: "Only attempts to this organization's subscriptions." })),
        }),
        response: { 200: ThroughputSchema, ...errors(400, 401) },
      },
    },
    async (req) => {
      const q = req.query as { hours?: number; bucketMinutes?: number; organizationUuid?: string };
      return deliveryThroughput(ctx, { hours: q.hours ?? 24, bucketMinutes: q.bucketMinutes ?? 60, organizationUuid: q.organizationUuid });
    },
  );

  app.get(
    '/admin/destinations',
    {
      schema: {
        tags: ['admin'],
        summary: 'Destinations in trouble: throttled by the delivery engine (backing off, paused) or with FAILING subscriptions.',
        description:
          'In origin order. Pass `cursor` as `after` for the next page; null: no more. A page may hold fewer than `limit` ' +
          'destinations while cursor is not null (a read looks at no more than 5,000 origins).',
        security: [{ admin: [] }],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          after: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Paging: the `cursor` of the previous page (an origin).' })),
        }),
        response: {
          200: Type.Object({
            destinations: Type.Array(DestinationSchema),
            cursor: Type.Union([Type.String(), Type.Null()]),
            pendingCapped: Type.Boolean({ description: `More than ${cap} deliveries of a kind are pending: each pending count is a lower bound.` }),
          }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; after?: string };
      return troubledDestinations(ctx, { limit: q.limit ?? 100, after: q.after });
    },
  );
}
