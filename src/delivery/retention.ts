import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db, Queryable } from '../store/db.js';
import {
  batchRemoveDeliveries,
  batchRemoveEvents,
  batchRemoveMails,
  tryRetentionLock,
  vacuumTable,
  type RetainedTable,
  type RetentionBatch,
  type RetentionBatchOptions,
} from '../store/sql/retention.js';
import type { RetentionMetrics } from './metrics.js';

/**
 * Retention (issue 13 item 12): without it, events, deliveries and attempts were kept
 * forever, a busy deployment filled its disk, and the attempt log slowed down.
 *
 * A sweep, run by each worker process every HERALD_RETENTION_INTERVAL_SECONDS (10 min),
 * removes what finished more than HERALD_RETENTION_DAYS ago (the clock's time):
 * delivered deliveries with their attempts; failed and cancelled ones once their
 * subscription is deleted too; then events no delivery references any more; then mails.
 * Undelivered messages of a live subscription, and pending deliveries, stay
 * (store/sql/retention.ts says exactly what goes).
 *
 * It deletes in batches of HERALD_RETENTION_BATCH_SIZE rows, each its own short
 * transaction, and pauses after each batch as long as the batch took (10 ms to 1 s), so
 * the sweep takes at most about half of the database's time while deliveries go on.
 * Several workers on one PostgreSQL take turns through an advisory lock; the one that
 * finds it held skips its turn. On PGlite, which has no autovacuum, each sweep ends with
 * a VACUUM of the four tables, one at a time, so their freed space is reused.
 */

// Not at once on start: a restarted worker first drains its backlog.
const FIRST_SWEEP_DELAY_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RetentionDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** retentionIntervalSeconds null: no timer; sweep() still sweeps (tests call it). */
  config: Pick<Config, 'retentionDays' | 'retentionBatchSize' | 'retentionIntervalSeconds'>;
  metrics?: RetentionMetrics;
  /** A fixed pause between batches instead of one as long as the batch (tests: 0). */
  pauseMs?: number;
}

/** What one sweep did. */
export interface SweepResult {
  /** Rows removed before this time (now - HERALD_RETENTION_DAYS). */
  cutoff: Date;
  /** False when another process held the retention lock before this one removed anything; it stopped there. */
  swept: boolean;
  deliveries: number;
  events: number;
  mails: number;
  batches: number;
  durationMs: number;
  longestBatchMs: number;
  /** PGlite: the time the sweep's VACUUMs took, in all (0 on PostgreSQL). */
  vacuumMs: number;
}

export interface RetentionSweeper {
  /** Sweeps now (or joins the sweep under way) and resolves with what it removed. */
  sweep(): Promise<SweepResult>;
  /** Stops after the current batch (or VACUUM); resolves when none runs. */
  stop(): Promise<void>;
}

type Table = 'deliveries' | 'events' | 'mails';
type BatchFn = (q: Queryable, o: RetentionBatchOptions) => Promise<RetentionBatch>;

const VACUUMED: RetainedTable[] = ['deliveries', 'attempts', 'events', 'mails'];

// Events after deliveries: an event whose last delivery goes now goes in the same sweep.
const STAGES: [Table, BatchFn][] = [
  ['deliveries', batchRemoveDeliveries],
  ['events', batchRemoveEvents],
  ['mails', batchRemoveMails],
];

/** Starts the retention sweeper of a worker process. */
export function startRetentionSweeper(deps: RetentionDeps): RetentionSweeper {
  const { db, clock, log, config, metrics } = deps;
  // idle -> sweeping -> idle ...; stopped is final.
  let state: { mode: 'idle' } | { mode: 'sweeping'; run: Promise<SweepResult> } | { mode: 'stopped' } = { mode: 'idle' };
  let wakePause: (() => void) | undefined;

  const pause = (batchMs: number) =>
    new Promise<void>((resolve) => {
      if (state.mode === 'stopped') return resolve();
      const ms = deps.pauseMs ?? Math.min(1000, Math.max(10, batchMs));
      const t = setTimeout(resolve, ms);
      wakePause = () => {
        clearTimeout(t);
        resolve();
      };
    });

  async function run(): Promise<SweepResult> {
    const started = performance.now();
    const cutoff = new Date(clock.now().getTime() - config.retentionDays * DAY_MS);
    const result: SweepResult = {
      cutoff,
      swept: true,
      deliveries: 0,
      events: 0,
      mails: 0,
      batches: 0,
      durationMs: 0,
      longestBatchMs: 0,
      vacuumMs: 0,
    };
    stages: for (const [table, fn] of STAGES) {
      let afterId = 0;
      for (;;) {
        if (state.mode === 'stopped') break stages;
        const t0 = performance.now();
        const b = await db.transaction(async (tx) =>
          (await tryRetentionLock(tx)) ? fn(tx, { afterId, cutoff, limit: config.retentionBatchSize }) : undefined,
        );
        const ms = performance.now() - t0;
        if (!b) {
          // Another process sweeps (or began its sweep between two of ours): leave it the rest.
          result.swept = result.batches > 0;
          break stages;
        }
        result.batches++;
        result.longestBatchMs = Math.max(result.longestBatchMs, ms);
        result[table] += b.removed;
        if (b.removed > 0) metrics?.removed.inc({ table }, b.removed);
        if (b.lastId === null || b.scanned < config.retentionBatchSize || b.reachedYoung) break;
        afterId = b.lastId;
        await pause(ms);
      }
    }
    if (db.kind === 'pglite' && result.swept) {
      for (const table of VACUUMED) {
        if (state.mode === 'stopped') break;
        const t0 = performance.now();
        await vacuumTable(db, table);
        const ms = performance.now() - t0;
        result.vacuumMs += ms;
        await pause(ms);
      }
    }
    result.durationMs = performance.now() - started;
    const removed = result.deliveries + result.events + result.mails;
    const fields = {
      ...result,
      durationMs: Math.round(result.durationMs),
      longestBatchMs: Math.round(result.longestBatchMs),
      vacuumMs: Math.round(result.vacuumMs),
    };
    if (removed > 0) log.info(fields, 'retention removed old rows');
    else log.debug(fields, 'retention found nothing to remove');
    return result;
  }

  function sweep(): Promise<SweepResult> {
    if (state.mode === 'sweeping') return state.run;
    if (state.mode === 'stopped') return Promise.reject(new Error('the retention sweeper is stopped'));
    const sweeping = { mode: 'sweeping' as const, run: run() };
    state = sweeping;
    void sweeping.run
      .catch(() => {})
      .finally(() => {
        if (state === sweeping) state = { mode: 'idle' };
      });
    return sweeping.run;
  }

  const onTimer = () =>
    void sweep().catch((err: unknown) => log.error({ err }, 'retention sweep failed; retrying at the next one'));
  const timers: NodeJS.Timeout[] = [];
  const intervalMs = config.retentionIntervalSeconds === null ? null : config.retentionIntervalSeconds * 1000;
  if (intervalMs !== null) {
    timers.push(setTimeout(onTimer, Math.min(FIRST_SWEEP_DELAY_MS, intervalMs)), setInterval(onTimer, intervalMs));
    for (const t of timers) t.unref();
  }
  log.info(
    { retentionDays: config.retentionDays, intervalSeconds: config.retentionIntervalSeconds, batchSize: config.retentionBatchSize },
    intervalMs === null ? 'retention sweeps off in this process' : 'retention sweeper started',
  );

  return {
    sweep,
    async stop() {
      const was = state;
      state = { mode: 'stopped' };
      for (const t of timers) clearTimeout(t);
      wakePause?.();
      if (was.mode === 'sweeping') await was.run.catch(() => {});
    },
  };
}
