import type { Queryable } from '../db.js';
import { storableText, storableTextOrNull } from '../text.js';

/**
 * The statements of a failed attempt, run by delivery/record.ts in one transaction.
 * Failures are rare next to successes, so they are recorded one at a time.
 */

export interface AttemptRecord {
  deliveryId: number;
  attemptId: string;
  startedAt: Date;
  latencyMs: number;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  excerpt: string | null;
}

export async function insertAttempt(q: Queryable, a: AttemptRecord): Promise<void> {
  await q.query(
    `insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome, status_code, error_class, error_message, response_excerpt)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      a.deliveryId,
      a.attemptId,
      a.startedAt,
      Math.round(a.latencyMs),
      a.outcome,
      a.statusCode,
      a.errorClass,
      storableTextOrNull(a.errorMessage),
      storableTextOrNull(a.excerpt),
    ],
  );
}

/** A worker's claim of a delivery: who, and which attempt. A result counts only while it still holds. */
export interface Lease {
  deliveryId: number;
  workerId: string;
  attempt: number;
}

/** Schedules the next attempt, if this worker still holds the lease. */
export async function scheduleRetry(
  q: Queryable,
  lease: Lease,
  at: Date,
  status: number | null,
  error: string,
): Promise<boolean> {
  const r = await q.query(
    `update deliveries set next_attempt_at = $3, leased_by = null, last_status = $4, last_error = $5
      where id = $1 and state = 'pending' and leased_by = $2 and attempts = $6`,
    [lease.deliveryId, lease.workerId, at, status, storableText(error), lease.attempt],
  );
  return r.rowCount > 0;
}

/** Gives a delivery up (schedule exhausted, or 410 Gone), if this worker still holds the lease. */
export async function failDelivery(
  q: Queryable,
  lease: Lease,
  at: Date,
  status: number | null,
  error: string,
): Promise<boolean> {
  const r = await q.query(
    `update deliveries set state = 'failed', finished_at = $3, leased_by = null, last_status = $4, last_error = $5
      where id = $1 and state = 'pending' and leased_by = $2 and attempts = $6`,
    [lease.deliveryId, lease.workerId, at, status, storableText(error), lease.attempt],
  );
  return r.rowCount > 0;
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
