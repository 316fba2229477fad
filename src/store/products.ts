import type { Queryable } from './db.js';

/** A product row; `document` is the product as the API and the events show it. */
export interface ProductRow<D = Record<string, unknown>> {
  organization_uuid: string;
  uuid: string;
  document: D;
  etag: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/**
 * The product, live or deleted. `forUpdate` locks the row for the rest of the
 * transaction, so an If-Match check and the write it guards see the same version.
 */
export async function findProduct<D>(
  q: Queryable,
  organizationUuid: string,
  uuid: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ProductRow<D> | undefined> {
  const r = await q.query<ProductRow<D>>(
    `select * from products where organization_uuid = $1 and uuid = $2${opts.forUpdate ? ' for update' : ''}`,
    [organizationUuid, uuid],
  );
  return r.rows[0];
}

/** The live products of an organization, oldest first. */
export async function listProducts<D>(q: Queryable, organizationUuid: string): Promise<ProductRow<D>[]> {
  const r = await q.query<ProductRow<D>>(
    `select * from products where organization_uuid = $1 and deleted_at is null order by created_at, uuid`,
    [organizationUuid],
  );
  return r.rows;
}

/**
 * Inserts a product, or revives a deleted one with the same uuid. Returns false when a
 * live product already has the uuid (nothing written).
 */
export async function insertProduct(q: Queryable, p: Omit<ProductRow, 'deleted_at'>): Promise<boolean> {
  const r = await q.query(
    `insert into products (organization_uuid, uuid, document, etag, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (organization_uuid, uuid) do update
       set document = excluded.document, etag = excluded.etag, created_at = excluded.created_at,
           updated_at = excluded.updated_at, deleted_at = null
       where products.deleted_at is not null`,
    [p.organization_uuid, p.uuid, JSON.stringify(p.document), p.etag, p.created_at, p.updated_at],
  );
  return r.rowCount === 1;
}

export async function updateProduct(
  q: Queryable,
  p: Pick<ProductRow, 'organization_uuid' | 'uuid' | 'document' | 'etag' | 'updated_at'>,
): Promise<void> {
  await q.query(
    `update products set document = $3, etag = $4, updated_at = $5
     where organization_uuid = $1 and uuid = $2 and deleted_at is null`,
    [p.organization_uuid, p.uuid, JSON.stringify(p.document), p.etag, p.updated_at],
  );
}

export async function markProductDeleted(q: Queryable, organizationUuid: string, uuid: string, at: Date): Promise<void> {
  await q.query(`update products set deleted_at = $3 where organization_uuid = $1 and uuid = $2 and deleted_at is null`, [
    organizationUuid,
    uuid,
    at,
  ]);
}
