import type { Db, Queryable } from '../db.js';
import type { SharedLimitRow } from './destination-limits.js';

/**
 * Claims due deliveries for one worker, in one transaction of two statements, with what
 * sending them needs.
 *
 * 1. SCAN: the first due rows (`for update of d skip locked`: workers on one PostgreSQL
 *    never claim the same row and never wait for each other), then a transaction-level
 *    advisory lock on each of their destination origins, taken in sorted order (no
 *    deadlock between claimers), with each origin's shared limit (migration 008).
 * 2. TAKE: counts, per origin, the deliveries the other workers have in flight (leased
 *    by another, lease not run out) and takes at most limit - theirs - this worker's own
 *    of each origin's candidates. This statement starts after the locks are held, so its
 *    count sees every claim of those origins committed before: two workers together
 *    never exceed an origin's limit. (The worker counts its own in memory: a delivery it
 *    finished stays leased until its success is recorded, up to a batch later, and
 *    counting that against itself held a fast destination below its limit.)
 *
 * - The claim is a lease: next_attempt_at moves to the lease's end and leased_by names
 *   the worker. If the worker dies, the row is due again when the lease runs out (or
 *   when the others see its heartbeat stop); recording checks leased_by and the attempt
 *   number, so a late result cannot clobber a newer claim.
 * - Fairness: origins the worker knows to be at their limit or paused are left out of
 *   the scan ($3), so a slow destination with a long backlog cannot fill every claim.
 * - Ordered subscriptions (migration 009): their deliveries are not in deliveries_due;
 *   the scan takes each one's head (its first pending delivery, found by a skip scan of
 *   deliveries_ordered_pending, one probe per such subscription) when it is due. A head
 *   in flight is leased, so not due: one in flight, and a head waiting for its retry
 *   holds back its successors. The head is locked `skip locked` after it is chosen, so a
 *   head another claimer holds is skipped, never replaced by its successor.
 * - attempts is incremented at claim: an attempt cut short by a crash still counts.
 * - A row of a deleted subscription (fanned out while it was being deleted) comes back
 *   flagged, and the worker cancels it instead of sending. Filtering such rows in the
 *   scan instead changed the plan: claims took 10-14 ms instead of 5-8 ms with 10,000
 *   due rows on PostgreSQL (drain 2,000-2,500/s instead of 3,000/s).
 *
 * The deliveries_due partial index, in claim order (next_attempt_at, id), serves the
 * scan: a claim reads the first due rows and stops. Before that index (and the stored
 * destination_origin, and = any() for the update) a claim with 10,000 due rows sorted
 * them all: 35 ms on PGlite; after: see docs/performance.md.
 */
const SCAN = `
with recursive heads as (
  (select subscription_id, id from deliveries
    where state = 'pending' and ordered order by subscription_id, id limit 1)
  union all
  select n.subscription_id, n.id
  from heads h
  cross join lateral (
    select subscription_id, id from deliveries
     where state = 'pending' and ordered and subscription_id > h.subscription_id
     order by subscription_id, id limit 1
  ) n
), unordered as (
  select d.id, d.next_attempt_at, s.destination_origin as origin
  from deliveries d
  join subscriptions s on s.id = d.subscription_id
  where d.state = 'pending' and not d.ordered
    and d.next_attempt_at <= $1
    and s.destination_origin <> all ($3::text[])
  order by d.next_attempt_at, d.id
  limit $2
  for update of d skip locked
), ordered as (
  select d.id, d.next_attempt_at, s.destination_origin as origin
  from deliveries d
  join subscriptions s on s.id = d.subscription_id
  where d.id in (select id from heads)
    and d.state = 'pending' and d.ordered
    and d.next_attempt_at <= $1
    and s.destination_origin <> all ($3::text[])
  order by d.next_attempt_at, d.id
  limit $2
  for update of d skip locked
), candidates as (
  select * from unordered union all select * from ordered
), locked as (
  -- Volatile, so evaluated after the sort: locks are taken in origin order.
  select count(*) as n from (
    select pg_advisory_xact_lock(hashtextextended(origin, 0)) from (select distinct origin from candidates order by origin) o
  ) x
)
select c.id, c.origin, l.concurrency, l.slow_start, l.decreased_at, l.paused_until
from candidates c
cross join locked
left join destination_limits l on l.origin = c.origin
order by c.next_attempt_at, c.id`;

const TAKE = `
with fleet as (
  select s.destination_origin as origin, count(*)::int as n
  from deliveries d
  join subscriptions s on s.id = d.subscription_id
  where d.state = 'pending' and d.leased_by is not null and d.leased_by <> $8 and d.next_attempt_at > $1
    and s.destination_origin = any ($2::text[])
  group by s.destination_origin
), candidates as (
  select * from unnest($3::bigint[], $4::text[], $5::int[]) with ordinality as c(id, origin, lim, ord)
), ranked as (
  select c.id, c.ord, c.lim, coalesce(f.n, 0) as busy,
         row_number() over (partition by c.origin order by c.ord) as rn
  from candidates c
  left join fleet f on f.origin = c.origin
), chosen as (
  select id from ranked where rn + busy <= lim order by ord limit $6
), claimed as (
  update deliveries d
     set next_attempt_at = $7, leased_by = $8, attempts = d.attempts + 1
   where d.id = any (array(select id from chosen))
  returning d.id, d.attempts, d.event_id, d.subscription_id
)
select c.id, c.attempts,
       e.organization_uuid, e.event_name, e.message_id, e.payload::text as payload, e.livemode, e.created_at,
       s.id as subscription_id, s.uuid as subscription_uuid, s.destination, s.destination_origin, s.signing_key,
       s.deleted_at is not null as subscription_deleted
from claimed c
join events e on e.id = c.event_id
join subscriptions s on s.id = c.subscription_id
order by c.id`;

/** A claimed delivery and everything its attempt needs. */
export interface ClaimedDelivery {
  id: number;
  /** This attempt's number (1 for the first). */
  attempts: number;
  organization_uuid: string;
  event_name: string;
  message_id: string;
  /** The event payload as stored JSON text. */
  payload: string;
  livemode: boolean;
  created_at: Date;
  subscription_id: number;
  subscription_uuid: string;
  destination: string;
  /**
   * What the per-destination limit counts by: the stored column the claim's scan uses,
   * so the worker's in-flight counts and the claim name origins by one rule.
   */
  destination_origin: string;
  signing_key: string;
  /** The subscription was deleted after this delivery was fanned out: cancel, don't send. */
  subscription_deleted: boolean;
}

/** A due row the scan locked, with its origin's shared limit (no row: still at its start). */
interface Candidate {
  id: number;
  origin: string;
  concurrency: number | null;
  slow_start: boolean | null;
  decreased_at: Date | null;
  paused_until: Date | null;
}

export interface ClaimOptions {
  now: Date;
  leaseUntil: Date;
  /** At most this many deliveries (the worker's free slots). */
  limit: number;
  /** How many due rows to look at to fill `limit` slots fairly. */
  scan: number;
  /** Origins at their limit or paused, as far as the worker knows: not even scanned. */
  skipOrigins: string[];
  /**
   * How many more deliveries of a scanned origin this worker may take, given the other
   * workers had none in flight: its limit (from its shared row, null when it has none)
   * minus this worker's own in flight; 0 takes nothing (paused). The worker also learns
   * the rows (delivery/destination-limits.ts).
   */
  allowance(origin: string, shared: SharedLimitRow | null): number;
  workerId: string;
}

export interface Claim {
  deliveries: ClaimedDelivery[];
  /** How many due rows of each origin the scan found. */
  scanned: Map<string, number>;
}

/** Claims in one transaction of its own. */
export function claimDeliveries(db: Db, o: ClaimOptions): Promise<Claim> {
  return db.transaction((tx) => claimIn(tx, o));
}

/** The claim's two statements, in the caller's transaction (the locks last until it ends). */
export async function claimIn(tx: Queryable, o: ClaimOptions): Promise<Claim> {
  const found = (await tx.query<Candidate>(SCAN, [o.now, o.scan, o.skipOrigins])).rows;
  const scanned = new Map<string, number>();
  if (found.length === 0) return { deliveries: [], scanned };
  const limits = new Map<string, number>();
  for (const c of found) {
    scanned.set(c.origin, (scanned.get(c.origin) ?? 0) + 1);
    if (limits.has(c.origin)) continue;
    const shared: SharedLimitRow | null =
      c.concurrency === null
        ? null
        : { origin: c.origin, concurrency: c.concurrency, slow_start: c.slow_start!, decreased_at: c.decreased_at, paused_until: c.paused_until };
    limits.set(c.origin, o.allowance(c.origin, shared));
  }
  const r = await tx.query<ClaimedDelivery>(TAKE, [
    o.now,
    [...limits.keys()],
    found.map((c) => c.id),
    found.map((c) => c.origin),
    found.map((c) => limits.get(c.origin)!),
    o.limit,
    o.leaseUntil,
    o.workerId,
  ]);
  return { deliveries: r.rows, scanned };
}
