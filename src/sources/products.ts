import type { DomainContext } from '../domain/context.js';
import { formatSpecTimestamp } from '../domain/formats.js';
import { newUuidV1 } from '../domain/ids.js';
import { recordEvent } from '../domain/outbox.js';
import { badRequest, conflict, HeraldError, notFound } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { findProduct, insertProduct, listProducts, markProductDeleted, updateProduct } from '../store/products.js';
import { newEtag, type Actor } from './actor.js';
import { rejectNulCharacters } from './input.js';
import { stopTrackingIn } from './inventory.js';

/** Money in minor units (8300 = 83.00 SEK). */
export interface Money {
  amount: number;
  currencyId: string;
}

export interface Variant {
  uuid: string;
  name: string;
  description: string;
  sku: string;
  barcode: string;
  price: Money;
  costPrice: Money;
}

/** A product of the library: exactly what the API returns and ProductCreated/Updated/Deleted carry. */
export interface Product {
  uuid: string;
  organizationUuid: string;
  name: string;
  description: string;
  presentation: { imageUrl: string; backgroundColor: string; textColor: string };
  categories: string[];
  variants: Variant[];
  externalReference: string;
  vatPercentage: number;
  etag: string;
  updated: string;
  updatedByUserUuid: string;
  created: string;
  createdByUserUuid: string;
}

export interface VariantInput {
  uuid?: string;
  name?: string;
  description?: string;
  sku?: string;
  barcode?: string;
  price: Money;
  costPrice?: Money;
}

/**
 * What a client sends to create or replace a product. Absent texts become "", so that
 * every field of the spec's payload is always present with its type; an absent
 * costPrice is 0 in the price's currency; an absent vatPercentage is 0.
 */
export interface ProductInput {
  uuid?: string;
  name: string;
  description?: string;
  presentation?: { imageUrl?: string; backgroundColor?: string; textColor?: string };
  categories?: string[];
  variants: VariantInput[];
  externalReference?: string;
  vatPercentage?: number;
}

function variantOf(v: VariantInput, now: Date): Variant {
  return {
    uuid: (v.uuid ?? newUuidV1(now.getTime())).toLowerCase(),
    name: v.name ?? '',
    description: v.description ?? '',
    sku: v.sku ?? '',
    barcode: v.barcode ?? '',
    price: { amount: v.price.amount, currencyId: v.price.currencyId },
    costPrice: v.costPrice
      ? { amount: v.costPrice.amount, currencyId: v.costPrice.currencyId }
      : { amount: 0, currencyId: v.price.currencyId },
  };
}

/** The client-settable part of a product, with defaults filled in; rejects duplicate variant uuids. */
function contentOf(input: ProductInput, now: Date) {
  const variants = input.variants.map((v) => variantOf(v, now));
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.uuid)) {
      throw badRequest('VALIDATION_ERROR', `variant uuid ${v.uuid} appears twice`, [
        { propertyName: `variants.${i}.uuid`, developerMessage: 'must be unique within the product' },
      ]);
    }
    seen.add(v.uuid);
  });
  return {
    name: input.name,
    description: input.description ?? '',
    presentation: {
      imageUrl: input.presentation?.imageUrl ?? '',
      backgroundColor: input.presentation?.backgroundColor ?? '',
      textColor: input.presentation?.textColor ?? '',
    },
    categories: [...(input.categories ?? [])],
    variants,
    externalReference: input.externalReference ?? '',
    vatPercentage: input.vatPercentage ?? 0,
  };
}

const productNotFound = (uuid: string) => notFound('PRODUCT_NOT_FOUND', `product ${uuid} does not exist`);

/** A live product of the actor's organization, or 404. */
export async function getProduct(q: Queryable, actor: Actor, uuid: string, opts: { forUpdate?: boolean } = {}): Promise<Product> {
  const row = await findProduct<Product>(q, actor.organizationUuid, uuid.toLowerCase(), opts);
  if (!row || row.deleted_at) throw productNotFound(uuid);
  return row.document;
}

export async function allProducts(q: Queryable, actor: Actor): Promise<Product[]> {
  return (await listProducts<Product>(q, actor.organizationUuid)).map((r) => r.document);
}

/** Creates a product (the client may choose its uuid and its variants'); emits ProductCreated. */
export async function createProduct(ctx: DomainContext, actor: Actor, input: ProductInput): Promise<Product> {
  rejectNulCharacters(input);
  const now = ctx.clock.now();
  const stamp = formatSpecTimestamp(now);
  const product: Product = {
    uuid: (input.uuid ?? newUuidV1(now.getTime())).toLowerCase(),
    organizationUuid: actor.organizationUuid,
    ...contentOf(input, now),
    etag: newEtag(),
    updated: stamp,
    updatedByUserUuid: actor.userUuid,
    created: stamp,
    createdByUserUuid: actor.userUuid,
  };
  return ctx.db.transaction(async (tx) => {
    const inserted = await insertProduct(tx, {
      organization_uuid: product.organizationUuid,
      uuid: product.uuid,
      document: product as unknown as Record<string, unknown>,
      etag: product.etag,
      created_at: now,
      updated_at: now,
    });
    if (!inserted) throw conflict('PRODUCT_ALREADY_EXISTS', `product ${product.uuid} already exists`);
    await recordEvent(tx, ctx.clock, {
      organizationUuid: actor.organizationUuid,
      eventName: 'ProductCreated',
      payload: product,
      livemode: actor.livemode,
    });
    return product;
  });
}

/** Parses an If-Match header value: the etags it lists (quotes and W/ removed), or '*'. */
export function parseIfMatch(header: string | undefined): string[] | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  return header.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
}

/**
 * Replaces a product with the full product sent (its uuid, created and createdBy
 * stay; variant uuids the client omits are new variants). When ifMatch is given, the
 * product's current etag must be one of them, else 412 and nothing changes. Emits
 * ProductUpdated {organizationUuid, uuid, newEntity, oldEntity} (uuid: the product's,
 * which some receivers read at the top instead of newEntity.uuid).
 */
export async function replaceProduct(
  ctx: DomainContext,
  actor: Actor,
  uuid: string,
  input: ProductInput,
  ifMatch?: string[] | '*',
): Promise<Product> {
  rejectNulCharacters(input);
  const productUuid = uuid.toLowerCase();
  if (input.uuid !== undefined && input.uuid.toLowerCase() !== productUuid) {
    throw badRequest('VALIDATION_ERROR', `the body's uuid ${input.uuid} is not the uuid in the path`, [
      { propertyName: 'uuid', developerMessage: 'must equal the productUuid of the path' },
    ]);
  }
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const old = await getProduct(tx, actor, productUuid, { forUpdate: true });
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.includes(old.etag)) {
      throw new HeraldError(
        'precondition_failed',
        'PRECONDITION_FAILED',
        `If-Match ${ifMatch.join(', ')} does not match the product's current etag ${old.etag}`,
      );
    }
    const next: Product = {
      ...old,
      ...contentOf(input, now),
      uuid: old.uuid,
      organizationUuid: old.organizationUuid,
      etag: newEtag(),
      updated: formatSpecTimestamp(now),
      updatedByUserUuid: actor.userUuid,
    };
    await updateProduct(tx, {
      organization_uuid: actor.organizationUuid,
      uuid: productUuid,
      document: next as unknown as Record<string, unknown>,
      etag: next.etag,
      updated_at: now,
    });
    await recordEvent(tx, ctx.clock, {
      organizationUuid: actor.organizationUuid,
      eventName: 'ProductUpdated',
      payload: { organizationUuid: actor.organizationUuid, uuid: next.uuid, newEntity: next, oldEntity: old },
      livemode: actor.livemode,
    });
    return next;
  });
}

/**
 * Deletes a product; emits ProductDeleted (the product as it was). A tracked product
 * stops being tracked in the same transaction, with InventoryTrackingStopped.
 */
export async function deleteProduct(ctx: DomainContext, actor: Actor, uuid: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const old = await getProduct(tx, actor, uuid, { forUpdate: true });
    await markProductDeleted(tx, actor.organizationUuid, old.uuid, now);
    await recordEvent(tx, ctx.clock, {
      organizationUuid: actor.organizationUuid,
      eventName: 'ProductDeleted',
      payload: old,
      livemode: actor.livemode,
    });
    await stopTrackingIn(tx, ctx, actor, old.uuid);
  });
}
