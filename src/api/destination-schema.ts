import { Type } from 'typebox';

/**
 * A destination origin's learned limit as the delivery engine sees it now (issue 12,
 * domain/destination-capacity.ts): the attempt log's `destination` and each of the
 * operator's troubled destinations, described once.
 */
export const DestinationCapacitySchema = Type.Object(
  {
    origin: Type.String({ description: 'The destination origin (scheme, host, port) the limit counts by.' }),
    concurrencyLimit: Type.Integer({
      description: 'Requests all workers together may have in flight to the origin: learned from its answers, from 8 up to the ceiling.',
    }),
    ceiling: Type.Integer({ description: 'HERALD_PER_DESTINATION_CONCURRENCY.' }),
    inFlight: Type.Integer({ description: 'Requests in flight to the origin now, across all workers.' }),
    state: Type.Union(['growing', 'steady', 'backing-off', 'paused'].map((s) => Type.Literal(s)), {
      description:
        'growing: answering 2xx fast, the limit doubles; steady; backing-off: halved after 429/502/503/504, timeouts or refused connections (at 1, probed one request at a time); paused: by a Retry-After.',
    }),
    pausedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Until when a Retry-After paused every delivery to the origin.',
    }),
  },
  { description: "Herald's delivery engine's view of a destination origin (issue 12)." },
);
