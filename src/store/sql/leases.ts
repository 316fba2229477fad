import type { Queryable } from '../db.js';

/**
 * Releases every lease (PGlite only, at worker start): a single-process database has no
 * other live worker, so a lease still held belongs to a process that died.
 */
export async function releaseLeases(q: Queryable, now: Date): Promise<number> {
  const r = await q.query(
    `update deliveries set next_attempt_at = $1, leased_by = null where state = 'pending' and leased_by is not null`,
    [now],
  );
  return r.rowCount;
}

/**
 * Cancels due deliveries of deleted subscriptions. Deleting a subscription cancels its
 * pending deliveries, but on PostgreSQL an event committing at the same moment can
 * still fan out to it; the claim skips those rows and this sweep closes them.
 */
export async function cancelOrphans(q: Queryable, now: Date): Promise<number> {
  const r = await q.query(
    `update deliveries d set state = 'cancelled', finished_at = $1, leased_by = null
       from subscriptions s
      where s.id = d.subscription_id and s.deleted_at is not null
        and d.state = 'pending' and d.next_attempt_at <= $1`,
    [now],
  );
  return r.rowCount;
}
