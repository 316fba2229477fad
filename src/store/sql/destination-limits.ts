import type { Queryable } from '../db.js';

/**
 * The learned per-destination limits, shared by the fleet (migration 008). Workers
 * decide when a limit should move (delivery/destination-limits.ts); these statements
 * move it atomically, so two workers learning the same thing at once move it once.
 */

/** One origin's shared limit, as the claim and these statements return it. */
export interface SharedLimitRow {
  origin: string;
  concurrency: number;
  slow_start: boolean;
  decreased_at: Date | null;
  paused_until: Date | null;
}

const COLUMNS = 'origin, concurrency, slow_start, decreased_at, paused_until';

/**
 * Grows an origin's limit after a window of fast successes: doubles it in slow start,
 * else adds one, up to `ceiling`, but only if it is still `from` (the limit the window
 * ran under): two workers finishing a window at the same limit grow it once. Returns the
 * row as it is after the statement (unchanged when another worker moved it first).
 */
const GROW = `
with up as (
  insert into destination_limits as l (origin, concurrency, slow_start, updated_at)
  values ($1, least($3::int, $2::int * 2), true, $4)
  on conflict (origin) do update
     set concurrency = least($3::int, case when l.slow_start then l.concurrency * 2 else l.concurrency + 1 end),
         updated_at = $4
   where l.concurrency = $2::int
  returning ${COLUMNS}
)
select ${COLUMNS} from up
union all
select ${COLUMNS} from destination_limits where origin = $1 and not exists (select 1 from up)`;

export async function growLimit(
  q: Queryable,
  o: { origin: string; from: number; ceiling: number; now: Date },
): Promise<SharedLimitRow | undefined> {
  const r = await q.query<SharedLimitRow>(GROW, [o.origin, o.from, o.ceiling, o.now]);
  return r.rows[0];
}

/**
 * Halves an origin's limit on overload (not below 1), once per round: not again for a
 * request sent before the last halving (`sentAt` < decreased_at). Leaves slow start,
 * and pauses the origin until `pauseUntil` when the destination sent a Retry-After.
 * `initial`: the limit of an origin without a row.
 */
const SHRINK = `
insert into destination_limits as l (origin, concurrency, slow_start, decreased_at, paused_until, updated_at)
values ($1, greatest(1, $2::int / 2), false, $3, $5, $3)
on conflict (origin) do update
   set concurrency = case when l.decreased_at is null or l.decreased_at <= $4 then greatest(1, l.concurrency / 2) else l.concurrency end,
       decreased_at = case when l.decreased_at is null or l.decreased_at <= $4 then $3 else l.decreased_at end,
       slow_start = false,
       paused_until = greatest(l.paused_until, $5),
       updated_at = $3
returning ${COLUMNS}`;

export async function shrinkLimit(
  q: Queryable,
  o: { origin: string; initial: number; now: Date; sentAt: Date; pauseUntil: Date | null },
): Promise<SharedLimitRow> {
  const r = await q.query<SharedLimitRow>(SHRINK, [o.origin, o.initial, o.now, o.sentAt, o.pauseUntil]);
  return r.rows[0]!;
}

/** One origin's shared limit (undefined: still at its start) and its deliveries in flight across the fleet. */
export async function destinationStatus(
  q: Queryable,
  origin: string,
  now: Date,
): Promise<{ limit: SharedLimitRow | undefined; inFlight: number }> {
  const r = await q.query<SharedLimitRow & { in_flight: number; found: boolean }>(
    `select l.origin is not null as found, l.concurrency, l.slow_start, l.decreased_at, l.paused_until,
            (select count(*)::int from deliveries d join subscriptions s on s.id = d.subscription_id
              where d.state = 'pending' and d.leased_by is not null and d.next_attempt_at > $2
                and s.destination_origin = $1) as in_flight
       from (select 1) one left join destination_limits l on l.origin = $1`,
    [origin, now],
  );
  const row = r.rows[0]!;
  return { limit: row.found ? { ...row, origin } : undefined, inFlight: row.in_flight };
}
