import type { Queryable } from './db.js';

/**
 * Undelivered messages across an organization's subscriptions, as Betterez's
 * undelivered-webhooks endpoints list them: deliveries not (yet) delivered, that is
 * pending (possibly retrying) or failed, of the given live subscriptions.
 */
export interface UndeliveredRow {
  delivery_id: number;
  message_id: string;
  event_name: string;
  payload: string;
  state: 'pending' | 'failed';
  attempts: number;
  created_at: Date;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  leased_by: string | null;
  subscription_uuid: string;
  destination: string;
  total: number;
}

const SELECT = `
  select d.id as delivery_id, e.message_id, e.event_name, e.payload::text as payload, d.state, d.attempts, d.created_at,
         d.next_attempt_at, d.last_status, d.last_error, d.leased_by, s.uuid as subscription_uuid, s.destination,
         count(*) over () as total
    from deliveries d
    join events e on e.id = d.event_id
    join subscriptions s on s.id = d.subscription_id`;

/** A page, newest first, with the total count (one statement; deliveries_subscription serves it). */
export async function listUndelivered(
  q: Queryable,
  subscriptionIds: number[],
  page: { limit: number; offset: number },
): Promise<{ rows: UndeliveredRow[]; count: number }> {
  const r = await q.query<UndeliveredRow>(
    `${SELECT}
     where d.subscription_id = any ($1::bigint[]) and d.state in ('pending', 'failed')
     order by d.id desc limit $2 offset $3`,
    [subscriptionIds, page.limit, page.offset],
  );
  if (r.rows.length === 0 && page.offset > 0) {
    const c = await q.query<{ n: number }>(
      `select count(*) as n from deliveries where subscription_id = any ($1::bigint[]) and state in ('pending', 'failed')`,
      [subscriptionIds],
    );
    return { rows: [], count: c.rows[0]!.n };
  }
  return { rows: r.rows, count: r.rows[0]?.total ?? 0 };
}

export async function findUndelivered(q: Queryable, subscriptionIds: number[], deliveryId: number): Promise<UndeliveredRow | undefined> {
  const r = await q.query<UndeliveredRow>(
    `${SELECT}
     where d.subscription_id = any ($1::bigint[]) and d.id = $2 and d.state in ('pending', 'failed')`,
    [subscriptionIds, deliveryId],
  );
  return r.rows[0];
}

/** The organization's live subscriptions of one mode, with what decides who may see their messages. */
export async function liveSubscriptionsOf(
  q: Queryable,
  organizationUuid: string,
  livemode: boolean,
): Promise<{ id: number; event_names: string[] }[]> {
  const r = await q.query<{ id: number; event_names: string[] }>(
    // Webhook subscriptions only: a listener's (herald listen) messages are its CLI's business.
    "select id, event_names from subscriptions where organization_uuid = $1 and livemode = $2 and deleted_at is null and transport_name = 'WEBHOOK'",
    [organizationUuid, livemode],
  );
  return r.rows;
}
