import type { Queryable } from './db.js';
import type { ClaimedDelivery } from './sql/claim-deliveries.js';

/** A delivery of one message to one subscription, as the attempt log lists it. */
export interface MessageRow {
  delivery_id: number;
  message_id: string;
  event_name: string;
  state: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  created_at: Date;
  next_attempt_at: Date;
  finished_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  leased_by: string | null;
}

export interface AttemptRow {
  attempt_id: string;
  started_at: Date;
  latency_ms: number;
  outcome: 'success' | 'failure';
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  response_excerpt: string | null;
}

/** The subscription row (live, or the latest deleted one when includeDeleted) for a uuid. */
export async function findSubscriptionForLog(
  q: Queryable,
  organizationUuid: string,
  uuid: string,
  includeDeleted: boolean,
): Promise<{ id: number; event_names: string[]; livemode: boolean; deleted_at: Date | null; destination_origin: string } | undefined> {
  const r = await q.query<{ id: number; event_names: string[]; livemode: boolean; deleted_at: Date | null; destination_origin: string }>(
    `select id, event_names, livemode, deleted_at, destination_origin from subscriptions
      where organization_uuid = $1 and uuid = $2 and ($3 or deleted_at is null)
      order by (deleted_at is null) desc, id desc limit 1`,
    [organizationUuid, uuid, includeDeleted],
  );
  return r.rows[0];
}

const UNDELIVERED = ['pending', 'failed', 'cancelled'];

/** What a page of a subscription's messages is narrowed to; a field absent or null: no narrowing. */
export interface MessageListFilter {
  states: string[] | null;
  eventName?: string | null;
  /** created_at >= since */
  since?: Date | null;
  /** created_at < until */
  until?: Date | null;
  /**
   * An id range the times above lie within (store/sql/first-id-from.ts), so that the
   * scan of deliveries_subscription starts at `until` and stops at `since` instead of
   * reading the subscription's whole history for a narrow window.
   */
  minId?: number | null;
  maxIdExclusive?: number | null;
}

/**
 * Newest first; the filter narrows, `beforeId` pages. Read through deliveries_subscription
 * (subscription_id, id) backwards: a page reads its rows and those the filter skips
 * between them, within the id range of since/until when given. The id bounds are row
 * comparisons, an index condition of deliveries_subscription only: as `d.id < $4` the
 * planner took the primary key's range (ids follow the heap) and filtered it by
 * subscription, reading every subscription's rows (PostgreSQL, 20 subscriptions, 2M
 * deliveries: a two-day `since` 30 ms that way, 17 ms this way; no bound at all 245 ms).
 */
export async function listMessages(
  q: Queryable,
  subscriptionId: number,
  opts: MessageListFilter & { limit: number; beforeId: number | null },
): Promise<MessageRow[]> {
  const r = await q.query<MessageRow>(
    `select d.id as delivery_id, e.message_id, e.event_name, d.state, d.attempts, d.created_at, d.next_attempt_at,
            d.finished_at, d.last_status, d.last_error, d.leased_by
       from deliveries d join events e on e.id = d.event_id
      where d.subscription_id = $1
        and ($2::text[] is null or d.state = any ($2::text[]))
        and ($4::bigint is null or (d.subscription_id, d.id) < ($1, $4::bigint))
        and ($5::text is null or e.event_name = $5)
        and ($6::timestamptz is null or d.created_at >= $6)
        and ($7::timestamptz is null or d.created_at < $7)
        and ($8::bigint is null or (d.subscription_id, d.id) >= ($1, $8::bigint))
        and ($9::bigint is null or (d.subscription_id, d.id) < ($1, $9::bigint))
      order by d.subscription_id desc, d.id desc
      limit $3`,
    [
      subscriptionId,
      opts.states,
      opts.limit,
      opts.beforeId,
      opts.eventName ?? null,
      opts.since ?? null,
      opts.until ?? null,
      opts.minId ?? null,
      opts.maxIdExclusive ?? null,
    ],
  );
  return r.rows;
}

/**
 * What the request of a delivery's attempts was made of: its event as stored, and the
 * destination. The same columns the claim (herald_claim) hands the worker.
 */
export type DeliveryRequestRow = Pick<
  ClaimedDelivery,
  'organization_uuid' | 'event_name' | 'message_id' | 'payload' | 'livemode' | 'created_at' | 'destination'
>;

/** The same columns the claim (herald_claim) hands the worker for this delivery. */
export async function findDeliveryRequest(q: Queryable, deliveryId: number): Promise<DeliveryRequestRow | undefined> {
  const r = await q.query<DeliveryRequestRow>(
    `select e.organization_uuid, e.event_name, e.message_id, e.payload::text as payload, e.livemode, e.created_at, s.destination
       from deliveries d
       join events e on e.id = d.event_id
       join subscriptions s on s.id = d.subscription_id
      where d.id = $1`,
    [deliveryId],
  );
  return r.rows[0];
}

export const undeliveredStates = () => [...UNDELIVERED];

/**
 * One message of a subscription. The event is found by its organization and message id
 * (the events unique key), then its delivery by deliveries_event: by message id alone
 * the whole unique index was read, 106 ms with 1.1M events on PostgreSQL, 0.3 ms this way.
 */
export async function findMessage(q: Queryable, subscriptionId: number, messageId: string): Promise<MessageRow | undefined> {
  const r = await q.query<MessageRow>(
    `select d.id as delivery_id, e.message_id, e.event_name, d.state, d.attempts, d.created_at, d.next_attempt_at,
            d.finished_at, d.last_status, d.last_error, d.leased_by
       from subscriptions s
       join events e on e.organization_uuid = s.organization_uuid and e.message_id = $2
       join deliveries d on d.event_id = e.id and d.subscription_id = s.id
      where s.id = $1`,
    [subscriptionId, messageId],
  );
  return r.rows[0];
}

export async function listAttempts(q: Queryable, deliveryId: number): Promise<AttemptRow[]> {
  const r = await q.query<AttemptRow>(
    `select attempt_id, started_at, latency_ms, outcome, status_code, error_class, error_message, response_excerpt
       from attempts where delivery_id = $1 order by id`,
    [deliveryId],
  );
  return r.rows;
}

/**
 * Resends deliveries of live subscriptions: they become pending, due now, with a fresh
 * retry schedule (the attempt log keeps every earlier attempt). A delivery being sent
 * right now (leased) is left alone. `deliveryId` null: every undelivered one.
 */
export async function resendDeliveries(
  q: Queryable,
  subscriptionIds: number[],
  deliveryId: number | null,
  now: Date,
): Promise<number> {
  const r = await q.query(
    `update deliveries d
        set state = 'pending', attempts = 0, next_attempt_at = $3, finished_at = null, leased_by = null, ordered = s.ordered
       from subscriptions s
      where s.id = d.subscription_id
        and d.subscription_id = any ($1::bigint[])
        and ($2::bigint is not null and d.id = $2 or $2::bigint is null and d.state in ('pending', 'failed', 'cancelled'))
        and d.leased_by is null`,
    [subscriptionIds, deliveryId, now],
  );
  return r.rowCount;
}

/** One attempt of the organization feed (herald tail): the attempt, its message and subscription. */
export interface FeedAttemptRow extends AttemptRow {
  id: number;
  subscription_uuid: string;
  event_names: string[];
  event_name: string;
  message_id: string;
}

// The newest attempt ids a feed read looks at, at most: a read costs the same however
// large the attempt log (other organizations' attempts are skipped within this window).
export const FEED_WINDOW = 5000;

/**
 * The organization's attempts (of subscriptions in this mode) among the next FEED_WINDOW
 * attempt ids after `afterId` (or, when null, the newest `limit` of the last FEED_WINDOW
 * ids), oldest first, at most `limit`; also the highest id of the window, where the next read starts when this
 * one returned fewer than `limit`.
 */
export async function listFeedAttempts(
  q: Queryable,
  organizationUuid: string,
  opts: {
    afterId: number | null;
    limit: number;
    livemode: boolean;
    subscriptionUuid: string | null;
    eventName: string | null;
    outcome: string | null;
    /** Attempts that ended after this may still have neighbours (lower ids) not committed yet. */
    settledBefore: Date;
  },
): Promise<{ rows: FeedAttemptRow[]; windowEnd: number | null; firstUnsettled: number | null; windowFull: boolean }> {
  const window = await q.query<{ lo: number | null; hi: number | null; first_unsettled: number | null; n: number }>(
    `select ${opts.afterId === null ? 'min(id) - 1' : '$3::bigint'} as lo, max(id) as hi, count(*)::int as n,
            min(id) filter (where started_at + latency_ms * interval '1 millisecond' >= $2) as first_unsettled
       from (select id, started_at, latency_ms from attempts
              ${opts.afterId === null ? 'order by id desc' : 'where id > $3 order by id'} limit $1) w`,
    opts.afterId === null ? [FEED_WINDOW, opts.settledBefore] : [FEED_WINDOW, opts.settledBefore, opts.afterId],
  );
  const { lo, hi, first_unsettled: firstUnsettled, n } = window.rows[0]!;
  if (hi === null) return { rows: [], windowEnd: null, firstUnsettled: null, windowFull: false };
  const r = await q.query<FeedAttemptRow>(
    `select a.id, a.attempt_id, a.started_at, a.latency_ms, a.outcome, a.status_code, a.error_class, a.error_message,
            a.response_excerpt, s.uuid as subscription_uuid, s.event_names, e.event_name, e.message_id
       from attempts a
       join deliveries d on d.id = a.delivery_id
       join subscriptions s on s.id = d.subscription_id
       join events e on e.id = d.event_id
      where a.id > $2 and a.id <= $3
        and s.organization_uuid = $1 and s.livemode = $4
        and ($5::uuid is null or s.uuid = $5)
        and ($6::text is null or e.event_name = $6)
        and ($7::text is null or a.outcome = $7)
      order by a.id ${opts.afterId === null ? 'desc' : 'asc'}
      limit $8`,
    [organizationUuid, lo ?? 0, hi, opts.livemode, opts.subscriptionUuid, opts.eventName, opts.outcome, opts.limit],
  );
  // The first read takes the newest; every read answers oldest first.
  return { rows: opts.afterId === null ? r.rows.reverse() : r.rows, windowEnd: hi, firstUnsettled, windowFull: opts.afterId !== null && n === FEED_WINDOW };
}
