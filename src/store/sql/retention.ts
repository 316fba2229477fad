import type { Queryable } from '../db.js';

/**
 * Retention's statements (issue 13 item 12), run batch by batch by delivery/retention.ts.
 *
 * Each batch walks one table in primary-key order from `afterId`, reads at most `limit`
 * rows, and deletes those of them that retention removes; the caller goes on from the
 * batch's last id until it reaches rows created after the cutoff. Ids grow with
 * created_at (rows are inserted with the clock's time), and a row created after the
 * cutoff cannot have finished before it, so the walk stops at the first young row: old
 * rows sit at the low end of each table, and a sweep reads only them (what it removes
 * and what is kept) plus one batch. No index on finished_at: the walk needs none, and
 * each index is one more entry per write on the delivery path.
 *
 * Rows are locked `for update skip locked` and only the ones being deleted: a row
 * another transaction holds (a resend, a claim) is left for the next sweep, never
 * waited for, and nothing the worker touches is locked by a sweep longer than one batch.
 * Each table is its own statement, and events come after deliveries: a statement does
 * not see its own deletions, so an event is checked for references once its deliveries'
 * deletion has committed.
 */

/** What one batch read and removed. */
export interface RetentionBatch {
  /** The last id read (the next batch starts after it), or null when none was. */
  lastId: number | null;
  scanned: number;
  /** A row created at or after the cutoff was read: nothing beyond it is old enough. */
  reachedYoung: boolean;
  removed: number;
}

export interface RetentionBatchOptions {
  afterId: number;
  /** Rows that finished (or were created) before this go. */
  cutoff: Date;
  limit: number;
}

// The advisory lock key "retention" (migrate.ts uses 727_001 for migrations).
const RETENTION_LOCK_KEY = 727_012;

/**
 * Takes the retention lock for the current transaction, if no other process holds it:
 * on PostgreSQL with several workers, one sweeps at a time and the others skip their
 * turn. (Concurrent sweeps would still be safe, by skip locked; only wasteful.)
 */
export async function tryRetentionLock(q: Queryable): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [RETENTION_LOCK_KEY]);
  return r.rows[0]!.ok;
}

const SUMMARY = `
select (select max(id) from scanned) as last_id,
       (select count(*) from scanned) as scanned,
       exists (select 1 from scanned where created_at >= $2) as reached_young,
       (select count(*) from gone) as removed`;

/**
 * Finished deliveries (their attempts go with them, on delete cascade): delivered ones
 * that finished before the cutoff; failed and cancelled ones only once their
 * subscription was also deleted before the cutoff. Undelivered messages of a live
 * subscription stay however old (they are listed as undelivered and can be resent), and
 * pending ones always stay.
 */
const DELIVERIES = `
with scanned as (
  select id, created_at from deliveries where id > $1 order by id limit $3
), doomed as (
  select d.id
    from deliveries d
    join subscriptions s on s.id = d.subscription_id
   where d.id = any (array(select id from scanned where created_at < $2))
     and d.state <> 'pending'
     and d.finished_at < $2
     and (d.state = 'delivered' or s.deleted_at < $2)
   for update of d skip locked
), gone as (
  delete from deliveries d using doomed where d.id = doomed.id returning 1
)${SUMMARY}`;

/**
 * Events created before the cutoff that no delivery references (their deliveries went,
 * or they never had any). deliveries_event (006) serves both the check and the foreign
 * key's own lookup on delete. An old event gets no new delivery (fan-out happens only
 * in the statement that inserts the event), so the check cannot go stale; were it
 * wrong, on delete cascade would remove a pending delivery, which the tests guard.
 */
const EVENTS = `
with scanned as (
  select id, created_at from events where id > $1 order by id limit $3
), doomed as (
  select e.id
    from events e
   where e.id = any (array(select id from scanned where created_at < $2))
     and not exists (select 1 from deliveries d where d.event_id = e.id)
   for update of e skip locked
), gone as (
  delete from events e using doomed where e.id = doomed.id returning 1
)${SUMMARY}`;

/** Mails written before the cutoff, sent or not: one not sent in that long is stale. */
const MAILS = `
with scanned as (
  select id, created_at from mails where id > $1 order by id limit $3
), doomed as (
  select m.id from mails m
   where m.id = any (array(select id from scanned where created_at < $2))
   for update of m skip locked
), gone as (
  delete from mails m using doomed where m.id = doomed.id returning 1
)${SUMMARY}`;

async function batch(q: Queryable, sql: string, o: RetentionBatchOptions): Promise<RetentionBatch> {
  const r = await q.query<{ last_id: number | null; scanned: number; reached_young: boolean; removed: number }>(sql, [
    o.afterId,
    o.cutoff,
    o.limit,
  ]);
  const row = r.rows[0]!;
  return { lastId: row.last_id, scanned: row.scanned, reachedYoung: row.reached_young, removed: row.removed };
}

/** One batch of old finished deliveries (and their attempts). */
export const batchRemoveDeliveries = (q: Queryable, o: RetentionBatchOptions) => batch(q, DELIVERIES, o);

/** One batch of old events no delivery references. */
export const batchRemoveEvents = (q: Queryable, o: RetentionBatchOptions) => batch(q, EVENTS, o);

/** One batch of old mails. */
export const batchRemoveMails = (q: Queryable, o: RetentionBatchOptions) => batch(q, MAILS, o);

/** The tables retention deletes from (attempts through their deliveries). */
export type RetainedTable = 'deliveries' | 'attempts' | 'events' | 'mails';

/**
 * VACUUM of one table, for PGlite, which runs no autovacuum: without it the space of
 * removed rows, and of the old versions every claim and record leaves of a delivery,
 * is never reused, and the files grow whatever retention removes (tested: a table whose
 * rows were deleted grew from 52 to 90 MB on refilling; vacuumed first, it did not).
 * Plain VACUUM: no exclusive lock, and pages already all-visible are skipped.
 */
export async function vacuumTable(q: Queryable, table: RetainedTable): Promise<void> {
  await q.query(`vacuum ${table}`);
}
