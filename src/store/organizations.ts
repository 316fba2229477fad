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

export async function listOrganizations(q: Queryable): Promise<OrganizationRow[]> {
  return (await q.query<OrganizationRow>('select * from organizations order by created_at, uuid')).rows;
}
