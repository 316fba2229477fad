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

/**
 * Hands back claimed deliveries this worker did not start (its local queue, when it stops
 * or when a queued delivery's destination is paused or its lease too short): due again
 * now, the claim's attempt not counted, if this worker still holds each for that attempt.
 */
export async function returnUnstarted(
  q: Queryable,
  leases: { deliveryId: number; attempt: number }[],
  workerId: string,
  now: Date,
): Promise<number> {
  if (leases.length === 0) return 0;
  const r = await q.query(
    `update deliveries d set next_attempt_at = $3, leased_by = null, attempts = d.attempts - 1
       from unnest($1::bigint[], $2::int[]) as l(id, attempt)
      where d.id = l.id and d.state = 'pending' and d.leased_by = $4 and d.attempts = l.attempt`,
    [leases.map((l) => l.deliveryId), leases.map((l) => l.attempt), now, workerId],
  );
  return r.rowCount;
}
