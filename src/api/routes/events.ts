import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EVENT_TYPES } from '../../domain/catalog.js';
import { eventExample } from '../../domain/event-examples.js';

/** GET /events: the event catalog, public. */
export default async function eventCatalogRoutes(app: FastifyInstance) {
  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List every event Herald delivers, the scope a subscription to it needs, and its envelope.',
        response: {
          200: Type.Array(
            Type.Object({
              eventName: Type.String(),
              scope: Type.Union([Type.String(), Type.Null()], { description: 'null: any valid credential.' }),
              envelope: Type.Union([Type.Literal('pusher'), Type.Literal('inventory')]),
              trigger: Type.String(),
              example: Type.Record(Type.String(), Type.Unknown(), {
                description: 'An example payload (what `herald trigger` publishes); the Inventory events\' `data`.',
              }),
            }),
          ),
        },
      },
    },
    async () =>
      EVENT_TYPES.map((e) => ({ eventName: e.name, scope: e.scope, envelope: e.envelope, trigger: e.trigger, example: eventExample(e.name)! })),
  );
}
