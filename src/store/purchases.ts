import type { Queryable } from './db.js';

export interface PurchaseRow<D = Record<string, unknown>> {
  organization_uuid: string;
  uuid: string;
  purchase_number: number;
  document: D;
  created_at: Date;
}

/**
 * The organization's next purchaseNumber. One upsert on the counter row: the row lock it
 * takes is held until the purchase's transaction ends, so concurrent purchases get
 * distinct, increasing numbers, and a rolled-back purchase gives its number back.
 */
export async function nextPurchaseNumber(q: Queryable, organizationUuid: string): Promise<number> {
  const r = await q.query<{ last_number: number }>(
    `insert into purchase_counters (organization_uuid, last_number) values ($1, 1)
     on conflict (organization_uuid) do update set last_number = purchase_counters.last_number + 1
     returning last_number`,
    [organizationUuid],
  );
  return Number(r.rows[0]!.last_number);
}

/** Inserts a purchase; false when the organization already has one with this uuid. */
export async function insertPurchase(q: Queryable, p: PurchaseRow): Promise<boolean> {
  const r = await q.query(
    `insert into purchases (organization_uuid, uuid, purchase_number, document, created_at)
     values ($1, $2, $3, $4, $5) on conflict (organization_uuid, uuid) do nothing`,
    [p.organization_uuid, p.uuid, p.purchase_number, JSON.stringify(p.document), p.created_at],
  );
  return r.rowCount === 1;
}

export async function findPurchase<D>(q: Queryable, organizationUuid: string, uuid: string): Promise<PurchaseRow<D> | undefined> {
  const r = await q.query<PurchaseRow<D>>(`select * from purchases where organization_uuid = $1 and uuid = $2`, [
    organizationUuid,
    uuid,
  ]);
  return r.rows[0];
}

/** Purchases numbered above `afterNumber`, in purchaseNumber order (a cursor for paging). */
export async function listPurchases<D>(
  q: Queryable,
  organizationUuid: string,
  opts: { afterNumber: number; limit: number },
): Promise<PurchaseRow<D>[]> {
  const r = await q.query<PurchaseRow<D>>(
    `select * from purchases where organization_uuid = $1 and purchase_number > $2
     order by purchase_number limit $3`,
    [organizationUuid, opts.afterNumber, opts.limit],
  );
  return r.rows;
}

/** The display name of the user a credential acts as ('' when unknown). */
export async function userDisplayName(q: Queryable, userUuid: string): Promise<string> {
  const r = await q.query<{ display_name: string }>(`select display_name from users where uuid = $1`, [userUuid]);
  return r.rows[0]?.display_name ?? '';
}
