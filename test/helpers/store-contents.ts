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
