import type { Queryable } from './db.js';
import type { OrganizationRow } from './organizations.js';

/** The organization row, locked for the rest of the transaction (read-modify-write of its details). */
export async function lockOrganization(q: Queryable, uuid: string): Promise<OrganizationRow | undefined> {
  const r = await q.query<OrganizationRow>(`select * from organizations where uuid = $1 for update`, [uuid]);
  return r.rows[0];
}

export async function updateOrganizationDetails(
  q: Queryable,
  o: { uuid: string; name: string; details: Record<string, unknown>; updatedAt: Date },
): Promise<OrganizationRow> {
  const r = await q.query<OrganizationRow>(
    `update organizations set name = $2, details = $3, updated_at = $4 where uuid = $1 returning *`,
    [o.uuid, o.name, JSON.stringify(o.details), o.updatedAt],
  );
  return r.rows[0]!;
}
