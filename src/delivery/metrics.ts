import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Queryable } from '../store/db.js';

/** The delivery engine's Prometheus metrics. */
export interface DeliveryMetrics {
  attempts: Counter<'outcome'>;
  attemptLatency: Histogram;
  recovered: Counter;
  /** Reports the worker's learned per-destination limits when scraped. */
  watchDestinations(source: () => { origin: string; limit: number; state: string }[]): void;
}

/** Destinations reported in herald_destination_concurrency_limit at most (bounded label set). */
const MAX_REPORTED_DESTINATIONS = 1000;

/** Counters and the latency histogram of the attempts this process makes. */
export function makeDeliveryMetrics(registry: Registry): DeliveryMetrics {
  let destinations: (() => { origin: string; limit: number; state: string }[]) | undefined;
  new Gauge({
    name: 'herald_destination_concurrency_limit',
    help:
      'Requests this worker may have in flight to a destination origin (learned: growing, steady, backing-off, paused by a Retry-After). Origins still at their starting limit are left out.',
    labelNames: ['origin', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of (destinations?.() ?? []).slice(0, MAX_REPORTED_DESTINATIONS)) this.set({ origin: d.origin, state: d.state }, d.limit);
    },
  });
  return {
    watchDestinations(source) {
      destinations = source;
    },
    attempts: new Counter({
      name: 'herald_delivery_attempts_total',
      help: 'Delivery attempts by outcome: delivered, retry (failed, will retry), exhausted, gone (410).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptLatency: new Histogram({
      name: 'herald_delivery_attempt_duration_seconds',
      help: 'Time from sending a webhook request to its answer (or failure).',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    recovered: new Counter({
      name: 'herald_subscriptions_recovered_total',
      help: 'FAILING subscriptions that turned ACTIVE after a successful delivery.',
      registers: [registry],
    }),
  };
}

/** Retention's Prometheus metrics. */
export interface RetentionMetrics {
  removed: Counter<'table'>;
}

/** Rows removed by retention sweeps of this process, by table (attempts go with their deliveries). */
export function makeRetentionMetrics(registry: Registry): RetentionMetrics {
  return {
    removed: new Counter({
      name: 'herald_retention_removed_total',
      help: 'Rows removed by retention, by table: deliveries (with their attempts), events, mails.',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}

/**
 * Gauges read from the database when scraped, so every process reports the whole
 * system: pending deliveries, the age of the oldest, subscriptions by status.
 */
export function registerBacklogGauges(registry: Registry, db: Queryable, clock: Clock): void {
  new Gauge({
    name: 'herald_deliveries_pending',
    help: 'Deliveries waiting to be sent or retried.',
    registers: [registry],
    async collect() {
      const r = await db.query<{ n: number }>(`select count(*) as n from deliveries where state = 'pending'`);
      this.set(r.rows[0]!.n);
    },
  });
  new Gauge({
    name: 'herald_deliveries_oldest_pending_age_seconds',
    help: 'Age of the oldest pending delivery (0 when none).',
    registers: [registry],
    async collect() {
      const r = await db.query<{ at: Date | null }>(`select min(created_at) as at from deliveries where state = 'pending'`);
      const at = r.rows[0]?.at;
      this.set(at ? Math.max(0, (clock.now().getTime() - at.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'herald_subscriptions',
    help: 'Live subscriptions by status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const r = await db.query<{ status: string; n: number }>(
        `select status, count(*) as n from subscriptions where deleted_at is null group by status`,
      );
      this.reset();
      this.set({ status: 'ACTIVE' }, 0);
      this.set({ status: 'FAILING' }, 0);
      for (const row of r.rows) this.set({ status: row.status }, row.n);
    },
  });
}
