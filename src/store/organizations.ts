import type { Queryable } from './db.js';

export interface OrganizationRow {
  uuid: string;
  object_id: string;
  name: string;
  details: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export async function insertOrganization(q: Queryable, o: OrganizationRow): Promise<void> {
  await q.query(
    `insert into organizations (uuid, object_id, name, details, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6)`,
    [o.uuid, o.object_id, o.name, JSON.stringify(o.details), o.created_at, o.updated_at],
  );
}

export async function findOrganization(q: Queryable, uuid: string): Promise<OrganizationRow | undefined> {
  const r = await q.query<OrganizationRow>('select * from organizations where uuid = $1', [uuid]);
  return r.rows[0];
}

/**
 * Organizations in creation order, then by uuid (a total order: a page boundary between
 * two created in the same millisecond skips neither), at most `limit`, after the
 * organization `after` (its uuid; it must exist).
 * No index on created_at: organizations are few, and the list sorts them all.
 */
export async function listOrganizations(q: Queryable, o: { limit: number; after: string | null }): Promise<OrganizationRow[]> {
  const r = await q.query<OrganizationRow>(
    `select o.* from organizations o
      where $2::uuid is null
         or (o.created_at, o.uuid) > (select a.created_at, a.uuid from organizations a where a.uuid = $2::uuid)
      order by o.created_at, o.uuid
      limit $1`,
    [o.limit, o.after],
  );
  return r.rows;
}
