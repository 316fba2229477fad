import type { Queryable } from '../db.js';

/**
 * Where a time window starts in a table's primary key: the first id whose row was made
 * at or after `from`, found by bisecting the primary key (about log2(rows) probes of one
 * row each: 24 for 10M rows), so that a read of the window's rows is an id range,
 * through (subscription_id, id) or (delivery_id, id), whatever the size of the table.
 *
 * There is no index on deliveries.created_at or attempts.started_at, and none is needed:
 * ids grow with those times (rows are inserted with the clock's time, retention makes the
 * same assumption, store/sql/retention.ts). Not strictly: a delivery's created_at is read
 * a moment before its insert, an attempt is recorded up to a lease after it started. So
 * the caller asks for an earlier `from`, by more than that skew, and filters the rows it
 * reads on the time itself: the id only bounds the read, the time decides.
 *
 * Returns 0 when the table is empty, max(id) + 1 when every row is older.
 */
const TABLES = {
  deliveries: 'created_at',
  attempts: 'started_at',
} as const;

const sqlFor = (table: keyof typeof TABLES) => `
with recursive search(lo, hi) as (
  select min(id), max(id) + 1 from ${table}
  union all
  -- p: the first row at or after the middle (ids have gaps: retention deletes). Older
  -- than from: the window starts after it. Else: it starts at or before p, and no row
  -- lies between the middle and p, so the middle will do.
  select case when p.t < $1 then p.id + 1 else s.lo end,
         case when p.t < $1 then s.hi else (s.lo + s.hi) / 2 end
    from search s
    cross join lateral (select x.id, x.${TABLES[table]} as t from ${table} x
                         where x.id >= (s.lo + s.hi) / 2 order by x.id limit 1) p
   where s.lo < s.hi
)
select coalesce(max(lo), 0) as id from search`;

const SQL = { deliveries: sqlFor('deliveries'), attempts: sqlFor('attempts') };

export async function firstIdFrom(q: Queryable, table: keyof typeof TABLES, from: Date): Promise<number> {
  const r = await q.query<{ id: number }>(SQL[table], [from]);
  return Number(r.rows[0]!.id);
}
