import type { Queryable } from '../db.js';

/**
 * Accepts an event and fans it out in ONE statement: the event row and one pending
 * delivery per matching live subscription of its organization (eventNames names one of
 * $9, or is empty when $10), due now, skipping subscriptions that name one of $11. Because both happen in the caller's transaction, a
 * subscription created after the event commits never receives it, and an event whose
 * transaction rolls back has no deliveries.
 *
 * The same message id twice is one message: `on conflict do nothing` returns no row,
 * and the fan-out, which reads from the insert, creates nothing.
 *
 * Test mode and live mode never mix: an event goes to subscriptions created with a
 * credential of its own mode (a test-mode key's events reach only test-mode subscriptions).
 *
 * $8, when not null, restricts fan-out to subscriptions created by that credential
 * (PersonalAssertionDeleted goes to the subscriptions the deleted key created).
 */
const SQL = `
with ev as (
  insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at, trace_context)
  values ($1, $2, $3, $4, $5, $6, $12)
  on conflict (organization_uuid, message_id) do nothing
  returning id, created_at
), fan as (
  insert into deliveries (event_id, subscription_id, state, next_attempt_at, created_at, ordered)
  select ev.id, s.id, 'pending', ev.created_at, ev.created_at, s.ordered
  from ev
  join subscriptions s
    on s.organization_uuid = $1
   and s.deleted_at is null
   and s.livemode = $5
   and ((cardinality(s.event_names) = 0 and $10::boolean) or s.event_names && $9::text[])
   and not (s.event_names && $11::text[])
   and ($8::text is null or s.created_by = $8::text)
  where $7::boolean
  returning 1
)
select (select id from ev) as event_id, (select count(*) from fan) as deliveries`;

export interface InsertEventInput {
  organizationUuid: string;
  eventName: string;
  messageId: string;
  payload: unknown;
  livemode: boolean;
  createdAt: Date;
  /** false: record the event without fanning it out (events nobody can subscribe to). */
  fanOut?: boolean;
  onlyCreatedBy?: string | null;
  /**
   * Who receives it: subscriptions naming one of `names` (default [eventName]), those to
   * every event when `everyEvent` (default true), but none naming one of `unless`.
   */
  audience?: { names: readonly string[]; everyEvent: boolean; unless: readonly string[] };
  /** The publish span's W3C traceparent, when tracing is on. */
  traceContext?: string | null;
}

/** Returns the new event's id (null when the message id was already accepted) and how many deliveries it made. */
export async function insertEvent(q: Queryable, e: InsertEventInput): Promise<{ eventId: number | null; deliveries: number }> {
  const r = await q.query<{ event_id: number | null; deliveries: number }>(SQL, [
    e.organizationUuid,
    e.eventName,
    e.messageId,
    JSON.stringify(e.payload),
    e.livemode,
    e.createdAt,
    e.fanOut ?? true,
    e.onlyCreatedBy ?? null,
    e.audience?.names ?? [e.eventName],
    e.audience?.everyEvent ?? true,
    e.audience?.unless ?? [],
    e.traceContext ?? null,
  ]);
  const row = r.rows[0]!;
  return { eventId: row.event_id, deliveries: row.deliveries };
}

/** The stored traceparents of these events (by organization and message id), for the delivery spans. */
export async function traceContextsOf(q: Queryable, events: { organizationUuid: string; messageId: string }[]): Promise<Map<string, string>> {
  const r = await q.query<{ organization_uuid: string; message_id: string; trace_context: string }>(
    `select e.organization_uuid, e.message_id, e.trace_context
       from events e join unnest($1::uuid[], $2::text[]) as k (org, mid) on e.organization_uuid = k.org and e.message_id = k.mid
      where e.trace_context is not null`,
    [events.map((e) => e.organizationUuid), events.map((e) => e.messageId)],
  );
  return new Map(r.rows.map((row) => [`${row.organization_uuid}/${row.message_id}`, row.trace_context]));
}
