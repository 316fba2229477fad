import type { Queryable } from '../db.js';
import { storableText } from '../text.js';

/**
 * Records a batch of successful attempts in one statement: the deliveries become
 * delivered (only while this worker still holds their lease, for this attempt), every attempt is logged,
 * and subscriptions that were FAILING turn ACTIVE again.
 *
 * Why a batch: at thousands of deliveries a second, one transaction per success was the
 * bottleneck; unnest() turns N results into one round trip.
 */
const SQL = `
with x as (
  select * from unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::text[], $9::int[])
    as x(id, status, started_at, latency_ms, attempt_id, excerpt, attempt)
), done as (
  update deliveries d
     set state = 'delivered', finished_at = $7, last_status = x.status, last_error = null, leased_by = null
    from x
   where d.id = x.id and d.state = 'pending' and d.leased_by = $8 and d.attempts = x.attempt
  returning d.subscription_id
), logged as (
  insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome, status_code, response_excerpt)
  select id, attempt_id, started_at, latency_ms, 'success', status, excerpt from x
), recovered as (
  -- skip locked: a failure transaction holding the subscription (to retire it) may be
  -- waiting for one of these deliveries; waiting for it back would deadlock. A
  -- recovery skipped here happens on the subscription's next success.
  update subscriptions s
     set status = 'ACTIVE', failing_since = null, failing_warned = false, exhausted_warned = false
   where s.id in (select id from subscriptions
                   where id in (select subscription_id from done) and status = 'FAILING'
                   for update skip locked)
  returning s.id
)
select (select count(*) from done) as delivered, (select count(*) from recovered) as recovered`;

export interface SuccessRecord {
  deliveryId: number;
  /** The attempt number the claim gave: a result for an older claim of the row is ignored. */
  attempt: number;
  status: number;
  startedAt: Date;
  latencyMs: number;
  attemptId: string;
  excerpt: string;
}

export async function recordSuccesses(
  q: Queryable,
  batch: SuccessRecord[],
  now: Date,
  workerId: string,
): Promise<{ delivered: number; recovered: number }> {
  const r = await q.query<{ delivered: number; recovered: number }>(SQL, [
    batch.map((b) => b.deliveryId),
    batch.map((b) => b.status),
    batch.map((b) => b.startedAt),
    batch.map((b) => Math.round(b.latencyMs)),
    batch.map((b) => b.attemptId),
    batch.map((b) => storableText(b.excerpt)),
    now,
    workerId,
    batch.map((b) => b.attempt),
  ]);
  return r.rows[0]!;
}
