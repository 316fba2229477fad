import type { Queryable } from '../db.js';

/**
 * A worker's heartbeat: its row's beat_at moves to the database's clock. Returns false
 * when the row was missing (first beat, or the worker was taken for dead and its row
 * removed while it was paused or cut off), in which case the row is made again.
 */
export async function beat(q: Queryable, workerId: string): Promise<boolean> {
  const r = await q.query('update worker_heartbeats set beat_at = clock_timestamp() where worker_id = $1', [workerId]);
  if (r.rowCount > 0) return true;
  await q.query('insert into worker_heartbeats (worker_id) values ($1) on conflict (worker_id) do update set beat_at = clock_timestamp()', [
    workerId,
  ]);
  return false;
}

/** A worker that stopped cleanly (nothing leased any more) leaves: nobody has to take it for dead. */
export async function forgetWorker(q: Queryable, workerId: string): Promise<void> {
  await q.query('delete from worker_heartbeats where worker_id = $1', [workerId]);
}

/**
 * Removes the workers whose last beat is older than deadAfterSeconds (database clock) and
 * releases the deliveries they had leased, due at `now`. One statement per step, the
 * second only when a worker died, so the usual cost is one indexed delete that finds
 * nothing. Recording checks leased_by, so a worker taken for dead that comes back cannot
 * record over a delivery another worker has claimed since.
 */
export async function releaseDeadWorkers(
  q: Queryable,
  deadAfterSeconds: number,
  now: Date,
): Promise<{ workers: string[]; deliveries: number }> {
  const dead = await q.query<{ worker_id: string }>(
    `delete from worker_heartbeats where beat_at < clock_timestamp() - make_interval(secs => $1) returning worker_id`,
    [deadAfterSeconds],
  );
  const workers = dead.rows.map((r) => r.worker_id);
  if (workers.length === 0) return { workers, deliveries: 0 };
  const released = await q.query(
    `update deliveries set next_attempt_at = $2, leased_by = null
      where state = 'pending' and leased_by = any ($1::text[])`,
    [workers, now],
  );
  return { workers, deliveries: released.rowCount };
}
