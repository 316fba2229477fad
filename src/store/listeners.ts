import type { Queryable } from './db.js';

/** A `herald listen` session (migration 013): its subscription and when its stream was last seen. */
export interface ListenerRow {
  id: string;
  subscription_id: number;
  organization_uuid: string;
  created_at: Date;
  seen_at: Date;
  /** The credential that started it (its subscription's created_by): only it may use it. */
  created_by: string;
}

/** A signed request for a listener, as the stream pushes it. */
export interface ListenRequestRow {
  id: string;
  listener_id: string;
  headers: Record<string, string>;
  body: string;
}

/** What the CLI reported for one request: the local server's answer, or why there was none. */
export type ListenAnswer =
  | { status: number; latencyMs: number; excerpt?: string }
  | { error: 'connect' | 'timeout' | 'other'; message: string; latencyMs: number };

export async function insertListener(q: Queryable, l: { id: string; subscriptionId: number; organizationUuid: string; now: Date }): Promise<void> {
  await q.query('insert into listeners (id, subscription_id, organization_uuid, created_at, seen_at) values ($1, $2, $3, $4, $4)', [
    l.id,
    l.subscriptionId,
    l.organizationUuid,
    l.now,
  ]);
}

/** The organization's listener with this id. */
export async function findListener(q: Queryable, organizationUuid: string, id: string): Promise<ListenerRow | undefined> {
  const r = await q.query<ListenerRow>(
    `select l.*, s.created_by from listeners l join subscriptions s on s.id = l.subscription_id
      where l.organization_uuid = $1 and l.id = $2`,
    [organizationUuid, id],
  );
  return r.rows[0];
}

/** Marks the listeners whose streams this process holds as seen now; returns those that still exist. */
export async function touchListeners(q: Queryable, ids: string[], now: Date): Promise<string[]> {
  const r = await q.query<{ id: string }>('update listeners set seen_at = $2 where id = any ($1::uuid[]) returning id', [ids, now]);
  return r.rows.map((row) => row.id);
}

/**
 * Listeners to end, at most `limit`: not seen since `before` (their CLI or their API
 * process is gone), or started by a credential revoked since (an API key, an app connection).
 */
export async function listenersToEnd(q: Queryable, before: Date, limit: number): Promise<ListenerRow[]> {
  const r = await q.query<ListenerRow>(
    `select l.*, s.created_by from listeners l
       join subscriptions s on s.id = l.subscription_id
       left join api_keys k on s.created_by = 'api_key:' || k.id::text
       left join app_connections c on s.created_by = 'app_connection:' || c.id::text
      where l.seen_at < $1 or k.revoked_at is not null or c.removed_at is not null or s.deleted_at is not null
      order by l.seen_at limit $2`,
    [before, limit],
  );
  return r.rows;
}

/** Removes a listener (its waiting requests go with it) and its learned destination limit; returns false when it was gone already. */
export async function deleteListener(q: Queryable, id: string, origin: string): Promise<boolean> {
  const r = await q.query('delete from listeners where id = $1', [id]);
  await q.query('delete from destination_limits where origin = $1', [origin]);
  return r.rowCount > 0;
}

/** When the listener's stream was last seen, or undefined when there is no such listener. */
export async function listenerSeenAt(q: Queryable, id: string): Promise<Date | undefined> {
  const r = await q.query<{ seen_at: Date }>('select seen_at from listeners where id = $1', [id]);
  return r.rows[0]?.seen_at;
}

export async function insertListenRequest(
  q: Queryable,
  r: { id: string; listenerId: string; headers: Record<string, string>; body: string; now: Date },
): Promise<void> {
  await q.query('insert into listen_requests (id, listener_id, headers, body, created_at) values ($1, $2, $3, $4, $5)', [
    r.id,
    r.listenerId,
    JSON.stringify(r.headers),
    r.body,
    r.now,
  ]);
}

/**
 * Takes the requests not pushed yet of these listeners, oldest first, marking them
 * pushed: two streams (or two processes) never push one request twice.
 */
export async function takeUnpushedRequests(q: Queryable, listenerIds: string[], now: Date, limit: number): Promise<ListenRequestRow[]> {
  const r = await q.query<ListenRequestRow>(
    `update listen_requests set pushed_at = $2
      where id in (select id from listen_requests
                    where listener_id = any ($1::uuid[]) and pushed_at is null
                    order by created_at limit $3
                    for update skip locked)
      returning id, listener_id, headers, body`,
    [listenerIds, now, limit],
  );
  return r.rows;
}

/** Puts requests taken for a stream that closed meanwhile back, to be pushed to the next one. */
export async function releaseListenRequests(q: Queryable, ids: string[]): Promise<void> {
  await q.query('update listen_requests set pushed_at = null where id = any ($1::uuid[]) and answered_at is null', [ids]);
}

/** Records the CLI's answer to a request of this listener; false when there is no such request waiting for one. */
export async function answerListenRequest(q: Queryable, listenerId: string, requestId: string, answer: ListenAnswer, now: Date): Promise<boolean> {
  const r = await q.query(
    'update listen_requests set answered_at = $3, answer = $4 where id = $2 and listener_id = $1 and answered_at is null',
    [listenerId, requestId, now, JSON.stringify(answer)],
  );
  return r.rowCount > 0;
}

/** These requests as they stand: answered (with the answer) or not; a request missing from the result is gone (its listener ended). */
export async function readListenAnswers(q: Queryable, ids: string[]): Promise<{ id: string; answer: ListenAnswer | null }[]> {
  const r = await q.query<{ id: string; answer: ListenAnswer | null }>('select id, answer from listen_requests where id = any ($1::uuid[])', [ids]);
  return r.rows;
}

export async function deleteListenRequests(q: Queryable, ids: string[]): Promise<void> {
  await q.query('delete from listen_requests where id = any ($1::uuid[])', [ids]);
}
