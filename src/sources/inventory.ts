import type { DomainContext } from '../domain/context.js';
import { canonicalDecimal, DECIMAL_PATTERN, formatSpecTimestamp } from '../domain/formats.js';
import { nameUuid, newUuidV1 } from '../domain/ids.js';
import { recordEvent } from '../domain/outbox.js';
import { badRequest, notFound, unprocessable, type Violation } from '../errors.js';
import type { Queryable, Tx } from '../store/db.js';
import {
  addToBalance,
  deleteTracking,
  insertTracking,
  listBalances,
  listTracking,
  lockBalance,
  setBalance,
  trackedAmong,
  type BalanceKey,
} from '../store/inventory.js';
import { ensureDefaultLocation, findLocation, listLocations, type LocationRow } from '../store/locations.js';
import { findProduct } from '../store/products.js';
import type { Actor } from './actor.js';
import type { Product } from './products.js';

const DECIMAL = new RegExp(DECIMAL_PATTERN);

/** One entry of InventoryBalanceChanged's balanceBefore / balanceAfter. */
export interface Balance {
  organizationUuid: string;
  locationUuid: string;
  productUuid: string;
  variantUuid: string;
  /** A decimal as a string ("10"), as the spec writes it. */
  balance: string;
}

/** A balanceBefore entry: the balance, and when it was set. */
export interface BalanceBefore extends Balance {
  created: string;
}

/**
 * The InventoryBalanceChanged payload, as the original sends it: beyond the spec's
 * trimmed example, who changed it with which OAuth client (`updated`; SwagPayPal skips
 * its own changes by clientUuid), the change request's externalUuid (null when none;
 * the PayPal POS plugin and nopCommerce skip their own by it), and when each
 * balanceBefore was set.
 */
export interface BalanceChange {
  organizationUuid: string;
  updated: { uuid: string; timestamp: string; userType: 'USER'; clientUuid: string | null };
  externalUuid: string | null;
  balanceBefore: BalanceBefore[];
  balanceAfter: Balance[];
}

/** Who changed tracking and when: `created` of InventoryTrackingStarted, `changeInformation` of ...Stopped. */
export interface ChangeInformation {
  uuid: string;
  timestamp: string;
  userType: 'USER';
}

export interface Location {
  uuid: string;
  organizationUuid: string;
  type: string;
  name: string;
  default: boolean;
}

const toLocation = (r: LocationRow): Location => ({
  uuid: r.uuid,
  organizationUuid: r.organization_uuid,
  type: r.type,
  name: r.name,
  default: r.is_default,
});

const changeInformation = (actor: Actor, now: Date): ChangeInformation => ({
  uuid: actor.userUuid,
  timestamp: formatSpecTimestamp(now),
  userType: 'USER',
});

/** The organization's default STORE location, created on first use. */
export function defaultLocation(q: Queryable, ctx: DomainContext, actor: Actor): Promise<LocationRow> {
  const now = ctx.clock.now();
  return ensureDefaultLocation(q, actor.organizationUuid, { uuid: newUuidV1(now.getTime()), createdAt: now });
}

/** The organization's locations (at least its default store). */
export async function allLocations(ctx: DomainContext, actor: Actor): Promise<Location[]> {
  await defaultLocation(ctx.db, ctx, actor);
  return (await listLocations(ctx.db, actor.organizationUuid)).map(toLocation);
}

async function locationOrDefault(q: Queryable, ctx: DomainContext, actor: Actor, locationUuid?: string): Promise<LocationRow> {
  if (locationUuid === undefined) return defaultLocation(q, ctx, actor);
  const row = await findLocation(q, actor.organizationUuid, locationUuid.toLowerCase());
  if (!row) throw notFound('LOCATION_NOT_FOUND', `location ${locationUuid} does not exist`);
  return row;
}

/** The tracked products of the organization. */
export async function trackedProducts(q: Queryable, actor: Actor): Promise<{ productUuid: string; created: ChangeInformation }[]> {
  return (await listTracking(q, actor.organizationUuid)).map((t) => ({
    productUuid: t.product_uuid,
    created: { uuid: t.started_by_user_uuid, timestamp: formatSpecTimestamp(t.started_at), userType: 'USER' },
  }));
}

/**
 * Starts tracking a live product's stock; emits InventoryTrackingStarted. Starting it
 * again is a no-op (started: false, no event).
 */
export async function startTracking(
  ctx: DomainContext,
  actor: Actor,
  productUuid: string,
): Promise<{ started: boolean; productUuid: string }> {
  const uuid = productUuid.toLowerCase();
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const product = await findProduct(tx, actor.organizationUuid, uuid, { forUpdate: true });
    if (!product || product.deleted_at) throw notFound('PRODUCT_NOT_FOUND', `product ${productUuid} does not exist`);
    const started = await insertTracking(tx, {
      organization_uuid: actor.organizationUuid,
      product_uuid: uuid,
      started_at: now,
      started_by_user_uuid: actor.userUuid,
    });
    if (started) {
      await recordEvent(tx, ctx.clock, {
        organizationUuid: actor.organizationUuid,
        eventName: 'InventoryTrackingStarted',
        payload: { organizationUuid: actor.organizationUuid, productUuid: uuid, created: changeInformation(actor, now) },
        livemode: actor.livemode,
      });
    }
    return { started, productUuid: uuid };
  });
}

/**
 * Stops tracking inside the caller's transaction (product deletion uses it too); its
 * balances are forgotten. Emits InventoryTrackingStopped; false when it was not tracked.
 */
export async function stopTrackingIn(tx: Tx, ctx: DomainContext, actor: Actor, productUuid: string): Promise<boolean> {
  const stopped = await deleteTracking(tx, actor.organizationUuid, productUuid);
  if (stopped) {
    await recordEvent(tx, ctx.clock, {
      organizationUuid: actor.organizationUuid,
      eventName: 'InventoryTrackingStopped',
      payload: { organizationUuid: actor.organizationUuid, productUuid, changeInformation: changeInformation(actor, ctx.clock.now()) },
      livemode: actor.livemode,
    });
  }
  return stopped;
}

/** Stops tracking a product; 404 PRODUCT_NOT_TRACKED when it was not tracked. */
export async function stopTracking(ctx: DomainContext, actor: Actor, productUuid: string): Promise<void> {
  const uuid = productUuid.toLowerCase();
  await ctx.db.transaction(async (tx) => {
    if (!(await stopTrackingIn(tx, ctx, actor, uuid))) {
      throw notFound('PRODUCT_NOT_TRACKED', `product ${productUuid} is not tracked`);
    }
  });
}

/** One requested change: set the balance, or add to it (negative: remove stock). */
export interface BalanceChangeInput {
  productUuid: string;
  variantUuid: string;
  balance?: string;
  change?: string;
}

/** A change already validated: what to do to which balance, `property` naming it for violations. */
export interface PlannedChange {
  productUuid: string;
  variantUuid: string;
  op: 'set' | 'add';
  value: string;
  property: string;
}

/**
 * Applies changes to tracked variants' balances at one location, in the caller's
 * transaction, and emits one InventoryBalanceChanged (one before/after entry per
 * variant, in the order first named). Several changes of one variant apply in order.
 * Untracked products and variants a product does not have are rejected (422) and
 * nothing is written. Returns undefined when there is nothing to change.
 */
export async function applyBalanceChangesIn(
  tx: Tx,
  ctx: DomainContext,
  actor: Actor,
  location: LocationRow,
  changes: PlannedChange[],
  externalUuid: string | null = null,
): Promise<BalanceChange | undefined> {
  if (changes.length === 0) return undefined;
  const now = ctx.clock.now();
  const org = actor.organizationUuid;
  const productUuids = [...new Set(changes.map((c) => c.productUuid))];
  const tracked = await trackedAmong(tx, org, productUuids);
  const violations: Violation[] = [];
  const variantsOf = new Map<string, Set<string>>();
  for (const p of productUuids) {
    const row = tracked.has(p) ? await findProduct<Product>(tx, org, p) : undefined;
    variantsOf.set(p, new Set(row && !row.deleted_at ? row.document.variants.map((v) => v.uuid) : []));
  }
  for (const c of changes) {
    if (!tracked.has(c.productUuid)) {
      violations.push({ propertyName: `${c.property}.productUuid`, developerMessage: `product ${c.productUuid} is not tracked` });
    } else if (!variantsOf.get(c.productUuid)!.has(c.variantUuid)) {
      violations.push({
        propertyName: `${c.property}.variantUuid`,
        developerMessage: `product ${c.productUuid} has no variant ${c.variantUuid}`,
      });
    }
  }
  if (violations.length > 0) {
    throw unprocessable(
      tracked.size < productUuids.length ? 'PRODUCT_NOT_TRACKED' : 'VARIANT_NOT_FOUND',
      violations.map((v) => v.developerMessage).join('; '),
      violations,
    );
  }

  const keyOf = (c: { productUuid: string; variantUuid: string }) => `${c.productUuid}/${c.variantUuid}`;
  const order = [...new Set(changes.map(keyOf))];
  const before = new Map<string, { balance: string; updatedAt: Date }>();
  // Lock in key order, so two writers touching the same variants cannot deadlock.
  for (const key of [...order].sort()) {
    const [productUuid, variantUuid] = key.split('/') as [string, string];
    before.set(key, await lockBalance(tx, balanceKey(location, org, productUuid, variantUuid), now));
  }
  const after = new Map([...before].map(([k, b]) => [k, b.balance]));
  for (const c of changes) {
    const k = balanceKey(location, org, c.productUuid, c.variantUuid);
    after.set(keyOf(c), c.op === 'set' ? await setBalance(tx, k, c.value, now) : await addToBalance(tx, k, c.value, now));
  }
  const entry = (key: string, balance: string): Balance => {
    const [productUuid, variantUuid] = key.split('/') as [string, string];
    return { organizationUuid: org, locationUuid: location.uuid, productUuid, variantUuid, balance: canonicalDecimal(balance) };
  };
  const payload: BalanceChange = {
    organizationUuid: org,
    updated: { uuid: actor.userUuid, timestamp: formatSpecTimestamp(now), userType: 'USER', clientUuid: actor.clientId },
    externalUuid,
    balanceBefore: order.map((k) => ({ ...entry(k, before.get(k)!.balance), created: formatSpecTimestamp(before.get(k)!.updatedAt) })),
    balanceAfter: order.map((k) => entry(k, after.get(k)!)),
  };
  await recordEvent(tx, ctx.clock, { organizationUuid: org, eventName: 'InventoryBalanceChanged', payload, livemode: actor.livemode });
  return payload;
}

const balanceKey = (location: LocationRow, organizationUuid: string, productUuid: string, variantUuid: string): BalanceKey => ({
  organizationUuid,
  locationUuid: location.uuid,
  productUuid,
  variantUuid,
});

/**
 * Sets or adjusts balances of tracked variants at a location (default: the
 * organization's store); each change has exactly one of `balance` (the new balance)
 * and `change` (added to it; negative removes stock). Emits InventoryBalanceChanged.
 */
export async function changeBalances(
  ctx: DomainContext,
  actor: Actor,
  input: { locationUuid?: string; externalUuid?: string; changes: BalanceChangeInput[] },
): Promise<BalanceChange> {
  const violations: Violation[] = [];
  if (input.changes.length === 0) {
    violations.push({ propertyName: 'changes', developerMessage: 'must name at least one change' });
  }
  const seen = new Set<string>();
  const planned: PlannedChange[] = [];
  input.changes.forEach((c, i) => {
    const property = `changes.${i}`;
    const key = `${c.productUuid.toLowerCase()}/${c.variantUuid.toLowerCase()}`;
    if (seen.has(key)) violations.push({ propertyName: property, developerMessage: 'names a variant an earlier change names' });
    seen.add(key);
    if ((c.balance === undefined) === (c.change === undefined)) {
      violations.push({ propertyName: property, developerMessage: 'must have exactly one of balance and change' });
      return;
    }
    const value = c.balance ?? c.change!;
    if (!DECIMAL.test(value)) {
      violations.push({
        propertyName: `${property}.${c.balance !== undefined ? 'balance' : 'change'}`,
        developerMessage: 'must be a decimal number, e.g. "10" or "-2.5"',
      });
      return;
    }
    planned.push({
      productUuid: c.productUuid.toLowerCase(),
      variantUuid: c.variantUuid.toLowerCase(),
      op: c.balance !== undefined ? 'set' : 'add',
      value: canonicalDecimal(value),
      property,
    });
  });
  if (violations.length > 0) {
    throw badRequest('VALIDATION_ERROR', violations.map((v) => `${v.propertyName} ${v.developerMessage}`).join('; '), violations);
  }
  return ctx.db.transaction(async (tx) => {
    const location = await locationOrDefault(tx, ctx, actor, input.locationUuid);
    return (await applyBalanceChangesIn(tx, ctx, actor, location, planned, input.externalUuid?.toLowerCase() ?? null))!;
  });
}

/** Balances of the tracked products at a location (default: the store). */
export async function balancesAt(ctx: DomainContext, actor: Actor, locationUuid?: string): Promise<Balance[]> {
  const location = await locationOrDefault(ctx.db, ctx, actor, locationUuid);
  return (await listBalances(ctx.db, actor.organizationUuid, location.uuid)).map((b) => ({
    organizationUuid: b.organization_uuid,
    locationUuid: b.location_uuid,
    productUuid: b.product_uuid,
    variantUuid: b.variant_uuid,
    balance: canonicalDecimal(b.balance),
  }));
}

/**
 * The Zettle Inventory API's location types. Its clients require all four to exist
 * (SwagPayPal and nopCommerce map type -> uuid and fail without one): STORE is Herald's
 * default location; SUPPLIER, BIN and SOLD are where stock comes from and goes to, which
 * Herald does not keep balances for, so they are named, not stored (a v5 UUID per
 * organization and type, the same on every call).
 */
export const ZETTLE_LOCATION_TYPES = ['STORE', 'SUPPLIER', 'BIN', 'SOLD'] as const;
export type ZettleLocationType = (typeof ZETTLE_LOCATION_TYPES)[number];

/** A location as the Zettle Inventory API (v2) lists it. */
export interface ZettleLocation {
  uuid: string;
  type: ZettleLocationType;
  name: string;
  description: string;
  default: boolean;
}

/** The inventory of one location as the Zettle Inventory API (v2) answers it. */
export interface InventoryStatus {
  locationUuid: string;
  trackedProducts: string[];
  variants: { locationUuid: string; locationType: ZettleLocationType; productUuid: string; variantUuid: string; balance: string }[];
}

const systemLocationUuid = (organizationUuid: string, type: ZettleLocationType) =>
  nameUuid(`${organizationUuid}/${type}`, organizationUuid);

/** The four locations (the STORE is the organization's default location, made on first use). */
export async function zettleLocations(ctx: DomainContext, actor: Actor): Promise<ZettleLocation[]> {
  const store = await defaultLocation(ctx.db, ctx, actor);
  return ZETTLE_LOCATION_TYPES.map((type) => ({
    uuid: type === 'STORE' ? store.uuid : systemLocationUuid(actor.organizationUuid, type),
    type,
    name: type === 'STORE' ? store.name : type.charAt(0) + type.slice(1).toLowerCase(),
    description: 'System generated',
    default: type === 'STORE',
  }));
}

/**
 * The inventory of a location, named by uuid or by type (case-insensitive): the
 * tracked products, and the balances of their variants there (the store's; none at the
 * other three). 404 LOCATION_NOT_FOUND for anything else.
 */
export async function inventoryStatus(ctx: DomainContext, actor: Actor, which: { uuid: string } | { type: string }): Promise<InventoryStatus> {
  const locations = await zettleLocations(ctx, actor);
  const location =
    'uuid' in which
      ? locations.find((l) => l.uuid === which.uuid.toLowerCase())
      : locations.find((l) => l.type === which.type.toUpperCase());
  if (!location) throw notFound('LOCATION_NOT_FOUND', `location ${'uuid' in which ? which.uuid : `of type ${which.type}`} does not exist`);
  const tracked = (await listTracking(ctx.db, actor.organizationUuid)).map((t) => t.product_uuid);
  const balances = location.type === 'STORE' ? await listBalances(ctx.db, actor.organizationUuid, location.uuid) : [];
  return {
    locationUuid: location.uuid,
    trackedProducts: tracked,
    variants: balances.map((b) => ({
      locationUuid: location.uuid,
      locationType: location.type,
      productUuid: b.product_uuid,
      variantUuid: b.variant_uuid,
      balance: canonicalDecimal(b.balance),
    })),
  };
}
