import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { beat, forgetWorker, releaseDeadWorkers } from '../store/sql/heartbeats.js';

/**
 * The worker's heartbeat on PostgreSQL, and the watch over the others'.
 *
 * Every `intervalSeconds` the worker moves its row's beat_at (database clock), then
 * releases the deliveries of workers silent for three intervals: a worker killed with
 * SIGKILL has its leased deliveries flowing again within about 4 intervals (8 s by
 * default) instead of at lease expiry (60 s). A worker that stops cleanly removes its
 * row; one cut short by the shutdown bound stops beating and is removed like a dead one,
 * its leases with it.
 *
 * Never two workers on one delivery at once: a worker taken for dead while alive (a long
 * pause, a network cut) may still finish a send, but recording checks leased_by, so its
 * result cannot overwrite a newer claim (test/store/leases.test.ts); at worst a delivery
 * is sent twice, as at-least-once allows, and the worker logs that it was taken for dead.
 *
 * After a database outage every last beat is old. A worker judges others only once its
 * own beats have run unbroken for the dead-after time, so the survivors of an outage get
 * to beat again before anyone is taken for dead.
 */

export interface Heartbeat {
  /** Stops beating. `clean`: the worker holds no lease any more, so its row goes too. */
  stop(opts?: { clean?: boolean }): Promise<void>;
}

export const DEAD_AFTER_BEATS = 3;

export async function startHeartbeat(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  workerId: string;
  intervalSeconds: number;
  /** Called when deliveries of a dead worker were released (the worker claims at once). */
  onReleased: () => void;
}): Promise<Heartbeat> {
  const { db, clock, log, workerId, intervalSeconds, onReleased } = deps;
  const deadAfterSeconds = intervalSeconds * DEAD_AFTER_BEATS;
  let unbrokenSince: number | undefined;
  let first = true;

  async function tick(): Promise<void> {
    try {
      const known = await beat(db, workerId);
      if (!known && !first) {
        log.warn({ workerId }, 'this worker was taken for dead (its heartbeats stopped); deliveries it held may be sent again');
      }
      first = false;
      unbrokenSince ??= performance.now();
      if (performance.now() - unbrokenSince < deadAfterSeconds * 1000) return;
      const released = await releaseDeadWorkers(db, deadAfterSeconds, clock.now());
      if (released.workers.length > 0) {
        log.warn({ workers: released.workers, deliveries: released.deliveries }, 'released the deliveries of workers whose heartbeats stopped');
        if (released.deliveries > 0) onReleased();
      }
    } catch (err) {
      unbrokenSince = undefined;
      log.warn({ err }, 'heartbeat failed; trying again on the next beat');
    }
  }

  // The first beat before any claim: a worker that claims is known to the others.
  await tick();
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = tick().finally(() => (busy = false));
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop(opts = {}) {
      clearInterval(timer);
      await running;
      // Else the others would take it for dead 3 beats later and log it (every deploy).
      if (opts.clean) await forgetWorker(db, workerId).catch((err: unknown) => log.warn({ err }, 'could not remove the heartbeat row'));
    },
  };
}
