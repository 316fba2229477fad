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

/** Cancels one claimed delivery, if this worker still holds it for this attempt. */
export async function cancelLeased(q: Queryable, lease: { deliveryId: number; workerId: string; attempt: number }, now: Date): Promise<void> {
  await q.query(
    `update deliveries set state = 'cancelled', finished_at = $4, leased_by = null
      where id = $1 and state = 'pending' and leased_by = $2 and attempts = $3`,
    [lease.deliveryId, lease.workerId, lease.attempt, now],
  );
}
