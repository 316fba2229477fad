import { badRequest } from '../errors.js';
import {
  countAttemptsByBucket,
  destinationCandidates,
  originLoad,
  readBacklog,
  type DestinationCandidateRow,
} from '../store/delivery-overview.js';
import { firstIdFrom } from '../store/sql/first-id-from.js';
import type { DomainContext } from './context.js';
import { destinationCapacity, type DestinationCapacity } from './destination-capacity.js';

/** The operator's view of the delivery engine: the backlog, throughput over time, the destinations in trouble. */

/**
 * Pending rows read at most, of each kind (unordered, and of ordered subscriptions), by a
 * backlog or destinations read: at the cap a backlog read took 125 ms on PostgreSQL and
 * 240 ms on PGlite, 15-25 ms with 10,000 pending (docs/operations.md, "The operator's
 * view of deliveries"). Beyond it the counts are lower bounds.
 */
export const PENDING_SCAN_CAP = 100_000;

export interface DeliveryBacklog {
  /** Deliveries pending: waiting to be sent, in flight, or waiting for a retry. */
  pending: number;
  /** More than PENDING_SCAN_CAP rows of a kind are pending: pending, due and retrying are lower bounds. */
  pendingCapped: boolean;
  /** Pending deliveries a claim could take now (their time has come, not leased). */
  due: number;
  /** Leased by a worker now. */
  inFlight: number;
  /** Pending after at least one attempt, not in flight. */
  retrying: number;
  oldestDueAt: string | null;
  /** How late the queue is: now minus the oldest due delivery's time. */
  oldestDueAgeSeconds: number | null;
  oldestPendingCreated: string | null;
  /** Mails to contacts not sent (waiting, or given up after 5 tries); at most PENDING_SCAN_CAP. */
  unsentMails: number;
}

export async function deliveryBacklog(ctx: DomainContext): Promise<DeliveryBacklog> {
  const now = ctx.clock.now();
  const r = await readBacklog(ctx.db, now, PENDING_SCAN_CAP);
  return {
    pending: r.pending,
    pendingCapped: r.capped,
    due: r.due,
    inFlight: r.in_flight,
    retrying: r.retrying,
    oldestDueAt: r.oldest_due_at?.toISOString() ?? null,
    oldestDueAgeSeconds: r.oldest_due_at ? Math.max(0, (now.getTime() - r.oldest_due_at.getTime()) / 1000) : null,
    oldestPendingCreated: r.oldest_pending_created?.toISOString() ?? null,
    unsentMails: r.unsent_mails,
  };
}

/** The most buckets a throughput read answers (hours * 60 / bucketMinutes). */
export const MAX_THROUGHPUT_BUCKETS = 1000;

export interface ThroughputBucket {
  start: string;
  successes: number;
  failures: number;
  /** The median latency of the bucket's attempts; absent when it has none. */
  p50LatencyMs?: number;
}

export interface Throughput {
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: ThroughputBucket[];
}

/**
 * Attempts per bucket over the last `hours`, every bucket present. Buckets are aligned
 * to multiples of their length since the Unix epoch (hourly buckets start on the hour),
 * so a chart refreshed every minute keeps its bars: `from` is the start of the bucket
 * holding now - hours, `to` is now, and the last bucket, the one holding now, is still
 * filling: hours * 60 / bucketMinutes + 1 buckets when it divides.
 */
export async function deliveryThroughput(
  ctx: DomainContext,
  o: { hours: number; bucketMinutes: number; organizationUuid?: string },
): Promise<Throughput> {
  if ((o.hours * 60) / o.bucketMinutes > MAX_THROUGHPUT_BUCKETS) {
    throw badRequest('VALIDATION_ERROR', `at most ${MAX_THROUGHPUT_BUCKETS} buckets: hours * 60 / bucketMinutes must be at most ${MAX_THROUGHPUT_BUCKETS}`, [
      {
        propertyName: 'bucketMinutes',
        developerMessage: `${o.hours} hours in buckets of ${o.bucketMinutes} minutes make more than ${MAX_THROUGHPUT_BUCKETS} buckets`,
      },
    ]);
  }
  const bucketMs = o.bucketMinutes * 60_000;
  const to = ctx.clock.now().getTime();
  const from = Math.floor((to - o.hours * 3_600_000) / bucketMs) * bucketMs;
  const count = Math.floor((to - from) / bucketMs) + 1;
  // The id bound is taken earlier than the window (sql/first-id-from.ts): an attempt is
  // recorded up to a lease after it started, and five minutes more for the recording
  // batch and the workers' clocks.
  const fromId = await firstIdFrom(ctx.db, 'attempts', new Date(from - (ctx.config.leaseSeconds + 300) * 1000));
  const rows = await countAttemptsByBucket(ctx.db, {
    fromId,
    from: new Date(from),
    to: new Date(to),
    bucketSeconds: bucketMs / 1000,
    organizationUuid: o.organizationUuid,
  });
  const byIndex = new Map(rows.map((r) => [r.bucket, r]));
  const buckets = Array.from({ length: count }, (_, i): ThroughputBucket => {
    const r = byIndex.get(i);
    const start = new Date(from + i * bucketMs).toISOString();
    return r ? { start, successes: r.successes, failures: r.failures, p50LatencyMs: r.p50_latency_ms } : { start, successes: 0, failures: 0 };
  });
  return { bucketSeconds: bucketMs / 1000, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets };
}

/** A destination origin throttled by the engine or with FAILING subscriptions. */
export interface TroubledDestination extends DestinationCapacity {
  /** Live subscriptions to the origin whose status is FAILING. */
  failingSubscriptions: number;
  /** Deliveries to the origin pending (among at most PENDING_SCAN_CAP pending rows of each kind). */
  pending: number;
  /** When the longest-failing of those subscriptions began failing. */
  oldestFailingSince: string | null;
}

// Candidate origins read per statement, and at most per request: an origin once halved
// stays a candidate after it recovered (its row keeps decreased_at), so a page skips
// over steady ones; a request stops after this many and answers its cursor.
const CANDIDATE_BATCH = 500;
const MAX_CANDIDATES_PER_REQUEST = 5000;

/**
 * The origins currently backing off or paused, or with FAILING live subscriptions, in
 * origin order, `limit` at most, after the origin `after`. `cursor`: where the next page
 * starts (null: no more); a page may be short while cursor is not null.
 */
export async function troubledDestinations(
  ctx: DomainContext,
  o: { limit: number; after?: string },
): Promise<{ destinations: TroubledDestination[]; cursor: string | null; pendingCapped: boolean }> {
  const now = ctx.clock.now();
  const ceiling = ctx.config.perDestinationConcurrency;
  const found: { row: DestinationCandidateRow; capacity: Omit<DestinationCapacity, 'inFlight'> }[] = [];
  let after = o.after ?? null;
  let read = 0;
  let exhausted = false;
  while (found.length < o.limit && read < MAX_CANDIDATES_PER_REQUEST && !exhausted) {
    const batch = await destinationCandidates(ctx.db, { after, now, limit: CANDIDATE_BATCH });
    exhausted = batch.length < CANDIDATE_BATCH;
    for (const row of batch) {
      after = row.origin;
      read += 1;
      const capacity = destinationCapacity(row.origin, row, ceiling, now);
      if (capacity.state === 'backing-off' || capacity.state === 'paused' || row.failing_subscriptions > 0) {
        found.push({ row, capacity });
        if (found.length === o.limit) {
          exhausted &&= row === batch[batch.length - 1];
          break;
        }
      }
    }
  }
  const load = await originLoad(
    ctx.db,
    found.map((f) => f.row.origin),
    now,
    PENDING_SCAN_CAP,
  );
  const loadOf = new Map(load.rows.map((l) => [l.origin, l]));
  return {
    destinations: found.map(({ row, capacity }) => ({
      ...capacity,
      inFlight: loadOf.get(row.origin)?.in_flight ?? 0,
      failingSubscriptions: row.failing_subscriptions,
      pending: loadOf.get(row.origin)?.pending ?? 0,
      oldestFailingSince: row.oldest_failing_since?.toISOString() ?? null,
    })),
    cursor: exhausted ? null : after,
    pendingCapped: load.capped,
  };
}
