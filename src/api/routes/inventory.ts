import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { BalanceSchema, ChangeInformationSchema, InventoryBalanceChangedSchema, Uuid } from '../../domain/payload-schemas.js';
import {
  allLocations,
  inventoryStatus,
  ZETTLE_LOCATION_TYPES,
  zettleLocations,
  balancesAt,
  changeBalances,
  startTracking,
  stopTracking,
  trackedProducts,
  type BalanceChangeInput,
} from '../../sources/inventory.js';
import { actorOf, requireCredential } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const OrgParams = Type.Object({ organizationUuid: Type.String({ description: 'The organization, or "self".' }) });
const security = [{ bearer: [] }];
const tags = ['inventory'];
const Decimal = (description: string) => Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40, description, examples: ['10'] });

const TrackingSchema = Type.Object({ productUuid: Uuid, created: ChangeInformationSchema });

const LocationSchema = Type.Object({
  uuid: Uuid,
  organizationUuid: Uuid,
  type: Type.String({ examples: ['STORE'] }),
  name: Type.String(),
  default: Type.Boolean({ description: 'The default store: where sales and changes without a locationUuid count.' }),
});

const BalancesBody = Type.Object(
  {
    locationUuid: Type.Optional(Type.String({ format: 'uuid', description: 'Default: the organization\'s store.' })),
    externalUuid: Type.Optional(
      Type.String({ format: 'uuid', description: "The client's id for this change, echoed as the event's externalUuid (to recognise its own changes)." }),
    ),
    changes: Type.Array(
      Type.Object({
        productUuid: Type.String({ format: 'uuid' }),
        variantUuid: Type.String({ format: 'uuid' }),
        balance: Type.Optional(Decimal('The new balance.')),
        change: Type.Optional(Decimal('Added to the balance; negative removes stock.')),
      }),
      { minItems: 1, maxItems: 1000, description: 'Each with exactly one of balance and change; one entry per variant.' },
    ),
  },
  {
    examples: [
      {
        changes: [
          { productUuid: '24134200-fb65-11e7-8b46-39368d314702', variantUuid: '24134200-fb65-11e7-8103-e11ba136a59d', balance: '10' },
        ],
      },
    ],
  },
);


/**
 * Inventory: tracking products' stock and their balances per location (READ:PRODUCT /
 * WRITE:PRODUCT, like the product library). Emits InventoryTrackingStarted,
 * InventoryTrackingStopped and InventoryBalanceChanged.
 */
export default async function inventoryRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx);

  app.post(
    '/organizations/:organizationUuid/inventory/tracking',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Start tracking a product\'s stock. Emits InventoryTrackingStarted.',
        description: '201 when tracking starts; 200 (and no event) when the product was already tracked.',
        params: OrgParams,
        body: Type.Object({ productUuid: Type.String({ format: 'uuid' }) }),
        response: {
          201: Type.Object({ productUuid: Uuid, started: Type.Boolean() }),
          200: Type.Object({ productUuid: Uuid, started: Type.Boolean() }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const r = await startTracking(ctx, actorOf(req), (req.body as { productUuid: string }).productUuid);
      return reply.status(r.started ? 201 : 200).send(r);
    },
  );

  app.get(
    '/organizations/:organizationUuid/inventory/tracking',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'List the tracked products.',
        params: OrgParams,
        response: { 200: Type.Array(TrackingSchema), ...errors(401, 403) },
      },
    },
    async (req) => trackedProducts(ctx.db, actorOf(req)),
  );

  app.delete(
    '/organizations/:organizationUuid/inventory/tracking/:productUuid',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Stop tracking a product\'s stock (its balances are forgotten). Emits InventoryTrackingStopped.',
        params: Type.Object({ organizationUuid: Type.String(), productUuid: Uuid }),
        response: { 204: Type.Null({ description: 'Stopped.' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await stopTracking(ctx, actorOf(req), (req.params as { productUuid: string }).productUuid);
      return reply.status(204).send();
    },
  );

  app.put(
    '/organizations/:organizationUuid/inventory/balances',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Set or adjust balances of tracked variants at a location. Emits InventoryBalanceChanged.',
        description:
          'All changes apply in one transaction, or none: an untracked product (422 PRODUCT_NOT_TRACKED), a ' +
          'variant the product lacks (422 VARIANT_NOT_FOUND) or an unknown location (404) changes nothing. ' +
          'The answer is the event\'s payload.',
        params: OrgParams,
        body: BalancesBody,
        response: { 200: InventoryBalanceChangedSchema, ...errors(400, 401, 403, 404, 422) },
      },
    },
    async (req) =>
      changeBalances(
        ctx,
        actorOf(req),
        req.body as { locationUuid?: string; externalUuid?: string; changes: BalanceChangeInput[] },
      ),
  );

  app.get(
    '/organizations/:organizationUuid/inventory/balances',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'The balances of the tracked products at a location (default: the store).',
        description: 'A tracked variant without a row has a balance of "0".',
        params: OrgParams,
        querystring: Type.Object({ locationUuid: Type.Optional(Type.String({ format: 'uuid' })) }),
        response: { 200: Type.Array(BalanceSchema), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => balancesAt(ctx, actorOf(req), (req.query as { locationUuid?: string }).locationUuid),
  );

  const ZettleLocationType = Type.Union(ZETTLE_LOCATION_TYPES.map((t) => Type.Literal(t)));
  const InventoryStatusSchema = Type.Object(
    {
      locationUuid: Uuid,
      trackedProducts: Type.Array(Uuid),
      variants: Type.Array(
        Type.Object({ locationUuid: Uuid, locationType: ZettleLocationType, productUuid: Uuid, variantUuid: Uuid, balance: Type.String() }),
      ),
    },
    { description: "A location's inventory, as the Zettle Inventory API (v2) answers it." },
  );

  app.get(
    '/organizations/:organizationUuid/inventory/locations',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: "The organization's locations; with ?type=, that location's inventory (the Zettle Inventory API's form).",
        description:
          'Without `type`: Herald\'s list of locations (its default store is created on first use). With `type` ' +
          '(STORE, SUPPLIER, BIN or SOLD, any case; nopCommerce sends `store`): `{locationUuid, trackedProducts, variants}`.',
        params: OrgParams,
        querystring: Type.Object({ type: Type.Optional(Type.String({ maxLength: 16 })) }),
        response: { 200: Type.Union([Type.Array(LocationSchema), InventoryStatusSchema]), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const type = (req.query as { type?: string }).type;
      return type === undefined ? allLocations(ctx, actor) : inventoryStatus(ctx, actor, { type });
    },
  );

  app.get(
    '/organizations/:organizationUuid/inventory/locations/:locationUuid',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: "A location's inventory: tracked products and their variants' balances (the Zettle Inventory API's form).",
        params: Type.Object({ ...OrgParams.properties, locationUuid: Type.String({ format: 'uuid' }) }),
        response: { 200: InventoryStatusSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) =>
      inventoryStatus(ctx, actorOf(req), { uuid: (req.params as { locationUuid: string }).locationUuid }),
  );

  app.get(
    '/organizations/:organizationUuid/locations',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'The four locations of the Zettle Inventory API: STORE (the default), SUPPLIER, BIN and SOLD.',
        params: OrgParams,
        response: {
          200: Type.Array(
            Type.Object({ uuid: Uuid, type: ZettleLocationType, name: Type.String(), description: Type.String(), default: Type.Boolean() }),
          ),
          ...errors(401, 403),
        },
      },
    },
    async (req) => zettleLocations(ctx, actorOf(req)),
  );
}
