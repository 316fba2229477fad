import type { Queryable } from '../db.js';
import { storableText, storableTextOrNull } from '../text.js';

/**
 * The statements of failed attempts, run by delivery/health.ts in one transaction per
 * batch: the attempts and the deliveries in one statement, then each subscription's health.
 */

/** One failed attempt, to record: its lease, what happened, and what comes next. */
export interface FailureRecord {
  deliveryId: number;
  /** The attempt number the claim gave: a result for an older claim of the row is ignored. */
  attempt: number;
  attemptId: string;
  startedAt: Date;
  latencyMs: number;
  statusCode: number | null;
  errorClass: string;
  errorMessage: string;
  excerpt: string | null;
  /** The next attempt; null gives the delivery up (schedule exhausted, or 410 Gone). */
  retryAt: Date | null;
}

/**
 * Records a batch of failed attempts in one statement: every attempt is logged, and each
 * delivery this worker still holds (its lease, for this attempt) is scheduled for its
 * retry or given up. Returns the deliveries that moved, with their subscription: the
 * subscriptions' health follows from those (delivery/health.ts).
 */
const FAILURES = `
with x as (
  select * from unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[],
                       $9::text[], $10::timestamptz[], $11::text[])
    as x(id, attempt, attempt_id, started_at, latency_ms, status, error_class, error_message, excerpt, retry_at, last_error)
), moved as (
  update deliveries d
     set state = case when x.retry_at is null then 'failed' else 'pending' end,
         next_attempt_at = coalesce(x.retry_at, d.next_attempt_at),
         finished_at = case when x.retry_at is null then $12::timestamptz end,
         leased_by = null, last_status = x.status, last_error = x.last_error
    from x
   where d.id = x.id and d.state = 'pending' and d.leased_by = $13 and d.attempts = x.attempt
  returning d.id, d.subscription_id
), logged as (
  insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome, status_code, error_class, error_message, response_excerpt)
  select id, attempt_id, started_at, latency_ms, 'failure', status, error_class, error_message, excerpt from x
)
select id, subscription_id from moved`;

export async function recordFailures(
  q: Queryable,
  batch: FailureRecord[],
  now: Date,
  workerId: string,
): Promise<{ id: number; subscription_id: number }[]> {
  const r = await q.query<{ id: number; subscription_id: number }>(FAILURES, [
    batch.map((f) => f.deliveryId),
    batch.map((f) => f.attempt),
    batch.map((f) => f.attemptId),
    batch.map((f) => f.startedAt),
    batch.map((f) => Math.round(f.latencyMs)),
    batch.map((f) => f.statusCode),
    batch.map((f) => f.errorClass),
    batch.map((f) => storableText(f.errorMessage.slice(0, 1000))),
    batch.map((f) => storableTextOrNull(f.excerpt)),
    batch.map((f) => f.retryAt),
    batch.map((f) => storableText(`${f.errorClass}: ${f.errorMessage}`.slice(0, 1000))),
    now,
    workerId,
  ]);
  return r.rows;
}

export interface FailingSubscription {
  id: number;
  uuid: string;
  organization_uuid: string;
  destination: string;
  contact_email: string;
  /** Whether this failing period's warning mail went out before this failure. */
  was_warned: boolean;
  /** Whether this failing period's "retries exhausted" mail went out already. */
  exhausted_warned: boolean;
  was_status: 'ACTIVE' | 'FAILING';
}

/**
 * Marks a live subscription FAILING (keeping the start of its failing period) and its
 * warning as sent; returns the state before, so the caller mails once per period.
 */
export async function markFailing(q: Queryable, subscriptionId: number, now: Date): Promise<FailingSubscription | undefined> {
  const r = await q.query<FailingSubscription>(
    `with before as (
       select id, status, failing_warned from subscriptions where id = $1 and deleted_at is null for update
     )
     update subscriptions s
        set status = 'FAILING', failing_since = coalesce(s.failing_since, $2), failing_warned = true
       from before
      where s.id = before.id
     returning s.id, s.uuid, s.organization_uuid, s.destination, s.contact_email, s.exhausted_warned,
               before.failing_warned as was_warned, before.status as was_status`,
    [subscriptionId, now],
  );
  return r.rows[0];
}

/** Notes that the failing period's "retries exhausted" mail went out. */
export async function markExhaustedWarned(q: Queryable, subscriptionId: number): Promise<void> {
  await q.query('update subscriptions set exhausted_warned = true where id = $1', [subscriptionId]);
}

export interface NewMail {
  organizationUuid: string;
  subscriptionUuid: string;
  kind: 'failing' | 'exhausted' | 'gone';
  to: string;
  subject: string;
  body: string;
  createdAt: Date;
}

export async function insertMail(q: Queryable, m: NewMail): Promise<number> {
  const r = await q.query<{ id: number }>(
    `insert into mails (organization_uuid, subscription_uuid, kind, to_address, subject, body, created_at, next_attempt_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7) returning id`,
    [m.organizationUuid, m.subscriptionUuid, m.kind, m.to, m.subject, m.body, m.createdAt],
  );
  return r.rows[0]!.id;
}
