import type { Queryable } from './db.js';

/** A user of an organization: each API key and each app connection acts as its own. */
export interface UserRow {
  uuid: string;
  organization_uuid: string;
  object_id: string;
  kind: 'API_KEY' | 'APP';
  display_name: string;
  created_at: Date;
}

export async function insertUser(q: Queryable, u: UserRow): Promise<void> {
  await q.query(
    `insert into users (uuid, organization_uuid, object_id, kind, display_name, created_at)
     values ($1, $2, $3, $4, $5, $6)`,
    [u.uuid, u.organization_uuid, u.object_id, u.kind, u.display_name, u.created_at],
  );
}
