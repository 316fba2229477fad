import type { Queryable } from '../../src/store/db.js';

/** Herald's tables, by name. */
export async function storeTables(db: Queryable): Promise<string[]> {
  const r = await db.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public' order by tablename");
  return r.rows.map((t) => t.tablename);
}

/** Every table's contents, hashed: equal before and after means nothing changed. */
export async function storeDigest(db: Queryable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of await storeTables(db)) {
    const r = await db.query<{ v: string }>(`select coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as v from "${table}" t`);
    out[table] = r.rows[0]!.v;
  }
  return out;
}

/** Every row of every table, as text: what a logical dump of the database holds. */
export async function storeRowsAsText(db: Queryable): Promise<string> {
  let out = '';
  for (const table of await storeTables(db)) {
    const rows = await db.query<{ row: string }>(`select t::text as row from "${table}" t`);
    out += `${table}\n${rows.rows.map((r) => r.row).join('\n')}\n`;
  }
  return out;
}

/** One organization with one live subscription (destination https://hooks.example.com/x), straight into the store. */
export async function seedSubscription(db: Queryable, organizationUuid: string, at: Date): Promise<void> {
  await db.query(`insert into organizations (uuid, object_id, name, created_at, updated_at) values ($1, 'aaaaaaaaaaaaaaaaaaaaaaaa', 'o', $2, $2)`, [
    organizationUuid,
    at,
  ]);
  await db.query(
    `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email, status,
                                signing_key, created_by, livemode, created_at, updated_at)
     values ('f02f80f8-8f35-11eb-8dcd-0242ac130003', $1, 'WEBHOOK', '{}', 'https://hooks.example.com/x', 'a@b.se', 'ACTIVE',
             'key', 'api_key:x', true, $2, $2)`,
    [organizationUuid, at],
  );
}

/** A new event of the organization and its delivery to the seeded subscription, due at `at`; returns the delivery's id. */
export async function seedDueDelivery(db: Queryable, organizationUuid: string, at: Date): Promise<number> {
  const e = await db.query<{ id: number }>(
    `insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at)
     values ($1, 'PaymentCreated', gen_random_uuid()::text, '{}', true, $2) returning id`,
    [organizationUuid, at],
  );
  const d = await db.query<{ id: number }>(
    `insert into deliveries (event_id, subscription_id, state, next_attempt_at, created_at)
     select $1, id, 'pending', $2, $2 from subscriptions limit 1 returning id`,
    [e.rows[0]!.id, at],
  );
  return d.rows[0]!.id;
}
