import type { Queryable } from '../db.js';

/**
 * Claims due deliveries for one worker, in one statement, with what sending them needs.
 *
 * - `for update of d skip locked`: workers on one PostgreSQL never claim the same row,
 *   and never wait for each other.
 * - The claim is a lease: next_attempt_at moves to the lease's end and leased_by names
 *   the worker. If the worker dies, the row is due again when the lease runs out
 *   (at-least-once); recording checks leased_by, so a late result cannot clobber a
 *   newer claim.
 * - Fairness: origins this worker already has at their limit are skipped in the scan
 *   ($8), and at most limit - in-flight rows per origin are taken ($5/$6/$10: each
 *   origin's learned limit, delivery/destination-limits.ts; $7 for the others), so a
 *   slow destination with a long backlog cannot take every slot.
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
const SQL = `
with candidates as (
  select d.id, d.next_attempt_at, s.destination_origin as origin
  from deliveries d
  join subscriptions s on s.id = d.subscription_id
  where d.state = 'pending'
    and d.next_attempt_at <= $1
    and s.destination_origin <> all ($8::text[])
  order by d.next_attempt_at, d.id
  limit $4
  for update of d skip locked
), ranked as (
  select c.id, c.next_attempt_at,
         row_number() over (partition by c.origin order by c.next_attempt_at, c.id) as rn,
         coalesce(busy.n, 0) as busy, coalesce(busy.lim, $7) as lim
  from candidates c
  left join unnest($5::text[], $6::int[], $10::int[]) as busy(origin, n, lim) on busy.origin = c.origin
), chosen as (
  select id from ranked where rn + busy <= lim order by next_attempt_at, id limit $3
), claimed as (
  update deliveries d
     set next_attempt_at = $2, leased_by = $9, attempts = d.attempts + 1
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

export interface ClaimOptions {
  now: Date;
  leaseUntil: Date;
  limit: number;
  /** How many due rows to look at to fill `limit` slots fairly. */
  scan: number;
  /** Origins with deliveries in flight in this worker or a learned limit: how many, and the limit. */
  busyOrigins: string[];
  busyCounts: number[];
  busyLimits: number[];
  /** The limit of every other origin. */
  perOriginLimit: number;
  /** Origins at their limit: skipped entirely. */
  saturatedOrigins: string[];
  workerId: string;
}

export async function claimDeliveries(q: Queryable, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  const r = await q.query<ClaimedDelivery>(SQL, [
    o.now,
    o.leaseUntil,
    o.limit,
    o.scan,
    o.busyOrigins,
    o.busyCounts,
    o.perOriginLimit,
    o.saturatedOrigins,
    o.workerId,
    o.busyLimits,
  ]);
  return r.rows;
}
