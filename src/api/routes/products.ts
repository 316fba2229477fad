import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { ProductSchema, Uuid } from '../../domain/payload-schemas.js';
import {
  allProducts,
  createProduct,
  deleteProduct,
  getProduct,
  parseIfMatch,
  replaceProduct,
  type ProductInput,
} from '../../sources/products.js';
import { actorOf, requireCredential } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const MoneyInput = Type.Object({
  amount: Type.Integer({ description: 'Minor units: 8300 is 83.00.' }),
  currencyId: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217.' }),
});

const text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));

/** The body of POST and PUT: the product's client-settable fields (server fields sent back are ignored). */
export const ProductInputSchema = Type.Object(
  {
    uuid: Type.Optional(Type.String({ format: 'uuid', description: 'Chosen by the client, or generated (version 1).' })),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: text(4096),
    presentation: Type.Optional(
      Type.Object({ imageUrl: text(2048), backgroundColor: text(32), textColor: text(32) }),
    ),
    categories: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
    variants: Type.Array(
      Type.Object({
        uuid: Type.Optional(Type.String({ format: 'uuid' })),
        name: text(256),
        description: text(4096),
        sku: text(256),
        barcode: text(256),
        price: MoneyInput,
        costPrice: Type.Optional(MoneyInput),
      }),
      { minItems: 1, maxItems: 1000 },
    ),
    externalReference: text(256),
    vatPercentage: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'A percentage: 25 is 25 %.' })),
  },
  {
    description:
      'Texts left out are "", costPrice left out is 0 in the price\'s currency, vatPercentage left out is 0: ' +
      'every field of the spec\'s product payload is always present.',
    examples: [
      {
        name: 'GBRNOTYI',
        description: 'CSINH CD ZWR EKTWJ',
        presentation: { imageUrl: 'http://image.izettle.com/productimage/l/GAdasdaBXTC.jpg', backgroundColor: '#804619', textColor: '#408384' },
        categories: ['GDOCJKIQ'],
        variants: [
          {
            name: 'SXTDESFYPA',
            description: 'VOYLECG TGEBKQT',
            sku: 'SGRZ8SK5EJTBT018H4',
            barcode: '7AIRNAB1KF',
            price: { amount: 8300, currencyId: 'SEK' },
            costPrice: { amount: 9800, currencyId: 'SEK' },
          },
        ],
        externalReference: 'VCKWGHFISF',
        vatPercentage: 25,
      },
    ],
  },
);

const OrgParams = Type.Object({ organizationUuid: Type.String({ description: 'The organization, or "self".' }) });
const ProductParams = Type.Object({ organizationUuid: Type.String(), productUuid: Uuid });
const security = [{ bearer: [] }];
const tags = ['products'];

/** The acting principal, confined to the organization of the path, holding the scopes. */

/**
 * The product library: READ:PRODUCT to read, WRITE:PRODUCT to change. Every change
 * emits its event in the change's transaction (ProductCreated, ProductUpdated,
 * ProductDeleted). Responses carry the product's etag in the ETag header.
 */
export default async function productRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx);

  app.post(
    '/organizations/:organizationUuid/products',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Create a product. Emits ProductCreated.',
        params: OrgParams,
        body: ProductInputSchema,
        response: { 201: ProductSchema, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const product = await createProduct(ctx, actorOf(req), req.body as ProductInput);
      return reply.status(201).header('etag', `"${product.etag}"`).send(product);
    },
  );

  app.get(
    '/organizations/:organizationUuid/products',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'List the products of the library.',
        params: OrgParams,
        response: { 200: Type.Array(ProductSchema), ...errors(401, 403) },
      },
    },
    async (req) => allProducts(ctx.db, actorOf(req)),
  );

  app.get(
    '/organizations/:organizationUuid/products/:productUuid',
    {
      config: { scopes: ['READ:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Get a product.',
        params: ProductParams,
        response: { 200: ProductSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const product = await getProduct(ctx.db, actorOf(req), (req.params as { productUuid: string }).productUuid);
      return reply.header('etag', `"${product.etag}"`).send(product);
    },
  );

  app.put(
    '/organizations/:organizationUuid/products/:productUuid',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Replace a product with the full product sent. Emits ProductUpdated.',
        description:
          'When an If-Match header is sent, the product\'s current etag must be one it lists (or it is "*"), ' +
          'else 412 PRECONDITION_FAILED and nothing changes. Without If-Match, the last write wins. Variants ' +
          'sent without a uuid are new variants.',
        params: ProductParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'An etag, quoted or not.' })) }),
        body: ProductInputSchema,
        response: { 200: ProductSchema, ...errors(400, 401, 403, 404, 412) },
      },
    },
    async (req, reply) => {
      const product = await replaceProduct(
        ctx,
        actorOf(req),
        (req.params as { productUuid: string }).productUuid,
        req.body as ProductInput,
        parseIfMatch(req.headers['if-match']),
      );
      return reply.header('etag', `"${product.etag}"`).send(product);
    },
  );

  app.delete(
    '/organizations/:organizationUuid/products/:productUuid',
    {
      config: { scopes: ['WRITE:PRODUCT'] },
      schema: {
        tags,
        security,
        summary: 'Delete a product. Emits ProductDeleted (and InventoryTrackingStopped when it was tracked).',
        params: ProductParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await deleteProduct(ctx, actorOf(req), (req.params as { productUuid: string }).productUuid);
      return reply.status(204).send();
    },
  );
}
