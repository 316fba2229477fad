import type { Queryable } from '../db.js';

/**
 * Accepts an event for ONE subscription (the Console's "send a test event"): the event
 * row and its one pending delivery, due now, in one statement, as insert-event.ts does
 * for a fan-out. From there it is any message: claimed, signed, sent, retried, listed.
 *
 * Only while the subscription is live: a deleted one makes no row at all (`deliveries`
 * 0), read in the statement, not before it. The event takes the subscription's
 * organization and mode, so test mode and live mode never mix here either.
 */
const SQL = `
with sub as (
  select id, organization_uuid, livemode, ordered from subscriptions where id = $1 and deleted_at is null
), ev as (
  insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at, trace_context)
  select sub.organization_uuid, $2, $3, $4, sub.livemode, $5, $6 from sub
  returning id, created_at
), fan as (
  insert into deliveries (event_id, subscription_id, state, next_attempt_at, created_at, ordered)
  select ev.id, sub.id, 'pending', ev.created_at, ev.created_at, sub.ordered from ev cross join sub
  returning 1
)
select (select count(*) from fan)::int as deliveries`;

export interface SubscriptionEventInput {
  subscriptionId: number;
  eventName: string;
  messageId: string;
  payload: unknown;
  createdAt: Date;
  /** The publish span's W3C traceparent, when tracing is on. */
  traceContext: string | null;
}

/** Returns how many deliveries it made: 1, or 0 when the subscription is gone. */
export async function insertEventForSubscription(q: Queryable, e: SubscriptionEventInput): Promise<number> {
  const r = await q.query<{ deliveries: number }>(SQL, [
    e.subscriptionId,
    e.eventName,
    e.messageId,
    JSON.stringify(e.payload),
    e.createdAt,
    e.traceContext,
  ]);
  return r.rows[0]!.deliveries;
}
