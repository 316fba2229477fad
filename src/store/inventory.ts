import type { Queryable } from './db.js';

export interface TrackingRow {
  organization_uuid: string;
  product_uuid: string;
  started_at: Date;
  started_by_user_uuid: string;
}

/** Starts tracking; false when the product was already tracked (nothing written). */
export async function insertTracking(q: Queryable, t: TrackingRow): Promise<boolean> {
  const r = await q.query(
    `insert into inventory_tracking (organization_uuid, product_uuid, started_at, started_by_user_uuid)
     values ($1, $2, $3, $4) on conflict do nothing`,
    [t.organization_uuid, t.product_uuid, t.started_at, t.started_by_user_uuid],
  );
  return r.rowCount === 1;
}

/**
 * Stops tracking and forgets the product's balances (tracking it again starts from 0,
 * as a fresh count). False when it was not tracked.
 */
export async function deleteTracking(q: Queryable, organizationUuid: string, productUuid: string): Promise<boolean> {
  const r = await q.query(`delete from inventory_tracking where organization_uuid = $1 and product_uuid = $2`, [
    organizationUuid,
    productUuid,
  ]);
  await q.query(`delete from inventory_balances where organization_uuid = $1 and product_uuid = $2`, [
    organizationUuid,
    productUuid,
  ]);
  return r.rowCount === 1;
}

/** Which of these products are tracked. */
export async function trackedAmong(q: Queryable, organizationUuid: string, productUuids: readonly string[]): Promise<Set<string>> {
  if (productUuids.length === 0) return new Set();
  const r = await q.query<{ product_uuid: string }>(
    `select product_uuid from inventory_tracking where organization_uuid = $1 and product_uuid = any ($2::uuid[])`,
    [organizationUuid, [...productUuids]],
  );
  return new Set(r.rows.map((x) => x.product_uuid));
}

export async function listTracking(q: Queryable, organizationUuid: string): Promise<TrackingRow[]> {
  const r = await q.query<TrackingRow>(
    `select * from inventory_tracking where organization_uuid = $1 order by started_at, product_uuid`,
    [organizationUuid],
  );
  return r.rows;
}

export interface BalanceKey {
  organizationUuid: string;
  locationUuid: string;
  productUuid: string;
  variantUuid: string;
}

/**
 * Locks one balance row for the rest of the transaction and returns its balance as
 * PostgreSQL's numeric text. The row is first created at 0 when missing (a missing row
 * is a balance of 0), so that the lock also covers a first write racing another.
 * Callers lock several rows in key order, so concurrent writers cannot deadlock.
 */
export async function lockBalance(q: Queryable, k: BalanceKey, at: Date): Promise<{ balance: string; updatedAt: Date }> {
  await q.query(
    `insert into inventory_balances (organization_uuid, location_uuid, product_uuid, variant_uuid, balance, updated_at)
     values ($1, $2, $3, $4, 0, $5) on conflict do nothing`,
    [k.organizationUuid, k.locationUuid, k.productUuid, k.variantUuid, at],
  );
  const r = await q.query<{ balance: string; updated_at: Date }>(
    `select balance::text as balance, updated_at from inventory_balances
     where location_uuid = $1 and product_uuid = $2 and variant_uuid = $3 for update`,
    [k.locationUuid, k.productUuid, k.variantUuid],
  );
  return { balance: r.rows[0]!.balance, updatedAt: r.rows[0]!.updated_at };
}

/** Sets a balance (decimal text) of a row locked by lockBalance; returns it as numeric text. */
export async function setBalance(q: Queryable, k: BalanceKey, balance: string, at: Date): Promise<string> {
  const r = await q.query<{ balance: string }>(
    `update inventory_balances set balance = $4::numeric, updated_at = $5
     where location_uuid = $1 and product_uuid = $2 and variant_uuid = $3
     returning balance::text as balance`,
    [k.locationUuid, k.productUuid, k.variantUuid, balance, at],
  );
  return r.rows[0]!.balance;
}

/** Adds delta (decimal text, may be negative) to a balance locked by lockBalance; returns the new one. */
export async function addToBalance(q: Queryable, k: BalanceKey, delta: string, at: Date): Promise<string> {
  const r = await q.query<{ balance: string }>(
    `update inventory_balances set balance = balance + $4::numeric, updated_at = $5
     where location_uuid = $1 and product_uuid = $2 and variant_uuid = $3
     returning balance::text as balance`,
    [k.locationUuid, k.productUuid, k.variantUuid, delta, at],
  );
  return r.rows[0]!.balance;
}

export interface BalanceRow {
  organization_uuid: string;
  location_uuid: string;
  product_uuid: string;
  variant_uuid: string;
  balance: string;
}

/** The balances of the organization's tracked products at a location. */
export async function listBalances(q: Queryable, organizationUuid: string, locationUuid: string): Promise<BalanceRow[]> {
  const r = await q.query<BalanceRow>(
    `select b.organization_uuid, b.location_uuid, b.product_uuid, b.variant_uuid, b.balance::text as balance
     from inventory_balances b
     join inventory_tracking t on t.organization_uuid = b.organization_uuid and t.product_uuid = b.product_uuid
     where b.organization_uuid = $1 and b.location_uuid = $2
     order by b.product_uuid, b.variant_uuid`,
    [organizationUuid, locationUuid],
  );
  return r.rows;
}
