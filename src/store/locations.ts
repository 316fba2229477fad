import type { Queryable } from './db.js';

export interface LocationRow {
  uuid: string;
  organization_uuid: string;
  type: string;
  name: string;
  is_default: boolean;
  created_at: Date;
}

/**
 * The organization's default STORE location, created on first need. The insert does
 * nothing when one exists (also when a concurrent transaction just made it: the partial
 * unique index makes it wait for that one), so there is always exactly one.
 */
export async function ensureDefaultLocation(
  q: Queryable,
  organizationUuid: string,
  candidate: { uuid: string; createdAt: Date },
): Promise<LocationRow> {
  await q.query(
    `insert into locations (uuid, organization_uuid, type, name, is_default, created_at)
     values ($1, $2, 'STORE', 'Store', true, $3)
     on conflict (organization_uuid) where is_default do nothing`,
    [candidate.uuid, organizationUuid, candidate.createdAt],
  );
  const r = await q.query<LocationRow>(`select * from locations where organization_uuid = $1 and is_default`, [
    organizationUuid,
  ]);
  return r.rows[0]!;
}

export async function findLocation(q: Queryable, organizationUuid: string, uuid: string): Promise<LocationRow | undefined> {
  const r = await q.query<LocationRow>(`select * from locations where organization_uuid = $1 and uuid = $2`, [
    organizationUuid,
    uuid,
  ]);
  return r.rows[0];
}

export async function listLocations(q: Queryable, organizationUuid: string): Promise<LocationRow[]> {
  const r = await q.query<LocationRow>(`select * from locations where organization_uuid = $1 order by created_at, uuid`, [
    organizationUuid,
  ]);
  return r.rows;
}
