import type { Queryable } from './db.js';

/**
 * The operator's view of the delivery engine (the Console's backlog, throughput and
 * destinations): read-only statements, each bounded so that a request costs about the
 * same however large the backlog or the attempt log grows.
 */

/** The pending deliveries as one bounded read sees them (store/delivery-overview.ts readBacklog). */
export interface BacklogRow {
  /** More pending rows exist than were read: the counts below are lower bounds. */
  capped: boolean;
  pending: number;
  due: number;
  retrying: number;
  in_flight: number;
  oldest_due_at: Date | null;
  oldest_pending_created: Date | null;
  unsent_mails: number;
}

/**
 * The pending deliveries, read through the two partial indexes that hold them and no
 * further than `cap` rows of each: deliveries_due (unordered, in claim order, so the due
 * rows come first and the oldest due is its first entry) and deliveries_ordered_pending
 * (ordered subscriptions, by subscription: its first row is the head, the only one the
 * claim may take, so the only one counted as due). "Due" is what a claim could take
 * now: next_attempt_at passed; a leased row's next_attempt_at is its lease's end, so a
 * row in flight is not due, and one whose lease ran out (its worker died) is due again.
 * In flight is counted exactly through deliveries_leased (at most the fleet's
 * concurrency rows). Unsent mails through mails_unsent, at most `cap`.
 *
 * The row_number/limit cap+1 pair tells "exactly cap" from "more than cap". Without the
 * cap a count reads every pending row: on a backlog of millions, seconds (and on PGlite,
 * the one connection the worker also needs).
 */
const BACKLOG = `
with unordered as (
  select u.next_attempt_at, u.attempts, u.leased_by, u.created_at, true as head,
         row_number() over (order by u.next_attempt_at, u.id) as n
    from (select d.id, d.next_attempt_at, d.attempts, d.leased_by, d.created_at
            from deliveries d
           where d.state = 'pending' and not d.ordered
           order by d.next_attempt_at, d.id
           limit $2::int + 1) u
), ordered as (
  select o.next_attempt_at, o.attempts, o.leased_by, o.created_at,
         o.id = min(o.id) over (partition by o.subscription_id) as head,
         row_number() over (order by o.subscription_id, o.id) as n
    from (select d.id, d.subscription_id, d.next_attempt_at, d.attempts, d.leased_by, d.created_at
            from deliveries d
           where d.state = 'pending' and d.ordered
           order by d.subscription_id, d.id
           limit $2::int + 1) o
), pending as (
  select next_attempt_at, attempts, leased_by, created_at, head from unordered where n <= $2
  union all
  select next_attempt_at, attempts, leased_by, created_at, head from ordered where n <= $2
)
select (select count(*) from unordered) > $2 or (select count(*) from ordered) > $2 as capped,
       count(*)::int as pending,
       count(*) filter (where head and next_attempt_at <= $1)::int as due,
       count(*) filter (where attempts > 0 and (leased_by is null or next_attempt_at <= $1))::int as retrying,
       min(next_attempt_at) filter (where head and next_attempt_at <= $1) as oldest_due_at,
       min(created_at) as oldest_pending_created,
       (select count(*)::int from deliveries d
         where d.state = 'pending' and d.leased_by is not null and d.next_attempt_at > $1) as in_flight,
       (select count(*)::int from (select 1 from mails m where m.sent_at is null limit $2) um) as unsent_mails
  from pending`;

export async function readBacklog(q: Queryable, now: Date, cap: number): Promise<BacklogRow> {
  return (await q.query<BacklogRow>(BACKLOG, [now, cap])).rows[0]!;
}

/** One bucket of attempts as counted by countAttemptsByBucket: its index from the window's start. */
export interface AttemptBucketRow {
  bucket: number;
  successes: number;
  failures: number;
  p50_latency_ms: number;
}

/**
 * Attempts of [from, to] per bucket of `bucketSeconds` (bucket 0 starts at `from`),
 * reading the primary key from `fromId` (sql/first-id-from.ts, taken a lease and more
 * before `from`): the window's attempts and a few minutes' more, whatever the size of the
 * log. The id is a bound parameter, so the planner sees its value and takes the primary
 * key's range, not a scan. `organizationUuid`: only attempts to that organization's
 * subscriptions.
 *
 * Why no index on started_at: a B-tree costs every recorded attempt one more entry, and
 * a BRIN index (cheap to keep) decays here: retention deletes the oldest attempts and
 * (auto)vacuum hands their pages to new rows, each page range's summary widens to span a
 * month, and after one retention period the index selects the whole table. Measured with
 * 30 days of attempts: a 24-hour window (100k attempts) 70 ms on PostgreSQL, as with a
 * BRIN index on a fresh, in-order table; a 1-hour window 3 ms instead of 160 ms for a
 * scan (docs/operations.md).
 */
export async function countAttemptsByBucket(
  q: Queryable,
  o: { fromId: number; from: Date; to: Date; bucketSeconds: number; organizationUuid?: string },
): Promise<AttemptBucketRow[]> {
  const byOrganization = o.organizationUuid !== undefined;
  const r = await q.query<AttemptBucketRow>(
    `select floor(extract(epoch from a.started_at - $2::timestamptz) / $4::int)::int as bucket,
            count(*) filter (where a.outcome = 'success')::int as successes,
            count(*) filter (where a.outcome = 'failure')::int as failures,
            percentile_disc(0.5) within group (order by a.latency_ms) as p50_latency_ms
       from attempts a
       ${byOrganization ? 'join deliveries d on d.id = a.delivery_id join subscriptions s on s.id = d.subscription_id' : ''}
      where a.id >= $1 and a.started_at >= $2 and a.started_at <= $3
        ${byOrganization ? 'and s.organization_uuid = $5' : ''}
      group by 1
      order by 1`,
    byOrganization ? [o.fromId, o.from, o.to, o.bucketSeconds, o.organizationUuid] : [o.fromId, o.from, o.to, o.bucketSeconds],
  );
  return r.rows;
}

/** An origin that may be throttled or failing, with its shared limit (null: still at its start) and its failing subscriptions. */
export interface DestinationCandidateRow {
  origin: string;
  concurrency: number | null;
  slow_start: boolean | null;
  decreased_at: Date | null;
  paused_until: Date | null;
  failing_subscriptions: number;
  oldest_failing_since: Date | null;
}

/**
 * The next `limit` origins after `after`, in origin order, that may be throttled or have
 * FAILING live subscriptions. The limit rows are narrowed only to those that can be
 * paused or backing off (paused_until ahead, or halved once: growing and steady rows are
 * most of them); whether they are is decided by domain/destination-capacity.ts, not
 * here. Live subscriptions are read whole (a sequential scan: one small row each, as
 * the herald_subscriptions gauge does).
 */
export async function destinationCandidates(
  q: Queryable,
  o: { after: string | null; now: Date; limit: number },
): Promise<DestinationCandidateRow[]> {
  const r = await q.query<DestinationCandidateRow>(
    `with failing as (
       select s.destination_origin as origin, count(*)::int as n, min(s.failing_since) as since
         from subscriptions s
        where s.deleted_at is null and s.status = 'FAILING' and s.destination_origin is not null
          and ($1::text is null or s.destination_origin > $1)
        group by 1
     ), page as (
       select origin from (
         select l.origin from destination_limits l
          where ($1::text is null or l.origin > $1) and (l.paused_until > $2 or l.decreased_at is not null)
         union
         select origin from failing
       ) c
       order by origin
       limit $3
     )
     select p.origin, l.concurrency, l.slow_start, l.decreased_at, l.paused_until,
            coalesce(f.n, 0) as failing_subscriptions, f.since as oldest_failing_since
       from page p
       left join destination_limits l on l.origin = p.origin
       left join failing f on f.origin = p.origin
      order by p.origin`,
    [o.after, o.now, o.limit],
  );
  return r.rows;
}

/** Deliveries in flight (exact) and pending (among at most `cap` pending rows of each kind) to each origin. */
export interface OriginLoadRow {
  origin: string;
  in_flight: number;
  pending: number;
}

/**
 * In flight: leased rows whose lease is running, through deliveries_leased (small).
 * Pending: there is no index of pending rows by subscription, so the pending rows are
 * read as readBacklog reads them, at most `cap` of each kind, and counted by origin;
 * `capped` says a count may be short.
 */
export async function originLoad(
  q: Queryable,
  origins: string[],
  now: Date,
  cap: number,
): Promise<{ rows: OriginLoadRow[]; capped: boolean }> {
  if (origins.length === 0) return { rows: [], capped: false };
  const r = await q.query<OriginLoadRow & { capped: boolean }>(
    `with unordered as (
       select d.subscription_id from deliveries d
        where d.state = 'pending' and not d.ordered
        order by d.next_attempt_at, d.id limit $3::int + 1
     ), ordered as (
       select d.subscription_id from deliveries d
        where d.state = 'pending' and d.ordered
        order by d.subscription_id, d.id limit $3::int + 1
     ), capped as (
       select (select count(*) from unordered) > $3 or (select count(*) from ordered) > $3 as capped
     ), pending as (
       select s.destination_origin as origin, count(*)::int as n
         from (select * from (select subscription_id from unordered limit $3) u
               union all
               select * from (select subscription_id from ordered limit $3) o) p
         join subscriptions s on s.id = p.subscription_id
        where s.destination_origin = any($1::text[])
        group by 1
     ), in_flight as (
       select s.destination_origin as origin, count(*)::int as n
         from deliveries d join subscriptions s on s.id = d.subscription_id
        where d.state = 'pending' and d.leased_by is not null and d.next_attempt_at > $2
          and s.destination_origin = any($1::text[])
        group by 1
     )
     select o.origin, coalesce(f.n, 0) as in_flight, coalesce(p.n, 0) as pending, (select capped from capped) as capped
       from unnest($1::text[]) as o(origin)
       left join pending p on p.origin = o.origin
       left join in_flight f on f.origin = o.origin`,
    [origins, now, cap],
  );
  return { rows: r.rows.map(({ capped: _, ...row }) => row), capped: r.rows[0]?.capped ?? false };
}
