import type { Queryable } from '../db.js';
import type { SharedLimitRow } from './destination-limits.js';

/**
 * Claims due deliveries for one worker, in one call of herald_claim() (migration 010:
 * one round trip, one transaction), with what sending them needs. Its three steps:
 *
 * 1. SCAN: the first due rows (`for update of d skip locked`: workers on one PostgreSQL
 *    never claim the same row and never wait for each other).
 * 2. LOCK: a transaction-level advisory lock on each of their destination origins, taken
 *    in sorted order (no deadlock between claimers).
 * 3. TAKE, in a new snapshot taken after the locks: per origin, its shared limit
 *    (migration 008; 0 while a Retry-After pauses it) minus the deliveries the other
 *    workers have in flight (leased by another, lease not run out) minus this worker's
 *    own; at most that many of the origin's candidates, in claim order. Its count sees
 *    every claim of those origins committed before, so two workers together never exceed
 *    an origin's limit. (The worker counts its own in memory: a delivery it finished
 *    stays leased until its success is recorded, up to a batch later, and counting that
 *    against itself held a fast destination below its limit.)
 *
 * As BEGIN, scan, take, COMMIT from the client, the claim cost PostgreSQL about 20 % of
 * its drain rate (docs/performance.md); the function does the same in one call.
 *
 * - The claim is a lease: next_attempt_at moves to the lease's end and leased_by names
 *   the worker. If the worker dies, the row is due again when the lease runs out (or
 *   when the others see its heartbeat stop); recording checks leased_by and the attempt
 *   number, so a late result cannot clobber a newer claim.
 * - Fairness: origins the worker knows to be at their limit or paused are left out of
 *   the scan (`skipOrigins`), so a slow destination with a long backlog cannot fill
 *   every claim.
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
 * - The fleet (migration 011): the claim also counts the other workers whose heartbeats
 *   are recent, so the worker knows whether it is alone (it prefetches only then).
 *
 * The deliveries_due partial index, in claim order (next_attempt_at, id), serves the
 * scan: a claim reads the first due rows and stops. Before that index (and the stored
 * destination_origin, and = any() for the update) a claim with 10,000 due rows sorted
 * them all: 35 ms on PGlite; after: see docs/performance.md.
 */
const SQL = 'select * from herald_claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)';

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
  /** During a key rotation's overlap: the previous key, signed with too (docs/signatures.md). */
  previous_signing_key: string | null;
  /** The subscription was deleted after this delivery was fanned out: cancel, don't send. */
  subscription_deleted: boolean;
  /** Of an ordered subscription: its successor is claimable once this one is recorded. */
  ordered: boolean;
}

type Row = { kind: 'delivery' | 'origin' | 'fleet'; scanned: number | null; others: number | null; concurrency: number | null } & ClaimedDelivery &
  Omit<SharedLimitRow, 'origin' | 'concurrency' | 'slow_start'> & { slow_start: boolean | null };

export interface ClaimOptions {
  now: Date;
  leaseUntil: Date;
  /** At most this many deliveries (the worker's free slots). */
  limit: number;
  /** How many due rows to look at to fill `limit` slots fairly. */
  scan: number;
  /** Origins at their limit or paused, as far as the worker knows: not even scanned. */
  skipOrigins: string[];
  /** The limit of an origin without a shared row, and the most any limit counts for. */
  initialLimit: number;
  ceiling: number;
  /** This worker's own deliveries, in flight or queued, per origin. */
  own: Map<string, number>;
  workerId: string;
  /** Another worker counts as alive if it beat within this many seconds. */
  aliveSeconds: number;
}

export interface Claim {
  deliveries: ClaimedDelivery[];
  /**
   * Each scanned origin: how many due rows the scan found, how many deliveries the other
   * workers have in flight to it, and its shared row (null: none, at its start).
   */
  origins: { origin: string; scanned: number; others: number; shared: SharedLimitRow | null }[];
  /** How many other workers are alive (their heartbeats recent; 0 on PGlite). */
  otherWorkers: number;
}

/** Claims in one call (one transaction of its own, or the caller's). */
export async function claimDeliveries(q: Queryable, o: ClaimOptions): Promise<Claim> {
  const r = await q.query<Row>(SQL, [
    o.now,
    o.scan,
    o.skipOrigins,
    o.limit,
    o.leaseUntil,
    o.workerId,
    o.initialLimit,
    o.ceiling,
    [...o.own.keys()],
    [...o.own.values()],
    o.aliveSeconds,
  ]);
  const deliveries: ClaimedDelivery[] = [];
  const origins: Claim['origins'] = [];
  let otherWorkers = 0;
  for (const row of r.rows) {
    if (row.kind === 'fleet') {
      otherWorkers = row.others!;
    } else if (row.kind === 'delivery') {
      const { kind: _k, scanned: _s, others: _o, concurrency: _c, slow_start: _ss, decreased_at: _d, paused_until: _p, ...d } = row;
      deliveries.push(d);
    } else {
      origins.push({
        origin: row.destination_origin,
        scanned: row.scanned!,
        others: row.others!,
        shared:
          row.concurrency === null
            ? null
            : { origin: row.destination_origin, concurrency: row.concurrency, slow_start: row.slow_start!, decreased_at: row.decreased_at, paused_until: row.paused_until },
      });
    }
  }
  deliveries.sort((x, y) => x.id - y.id);
  return { deliveries, origins, otherWorkers };
}
