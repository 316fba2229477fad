// Retention with a large table (issue 13 item 12): fills N finished deliveries older than
// the retention (each with its event and one attempt), plus what a busy deployment keeps
// (recent deliveries, old undelivered ones, due pending ones), then times the worker's
// claim and the attempt-log and undelivered queries before a sweep, during it, right
// after it and after VACUUM, and the sweep itself (duration, batches, longest batch).
// On PostgreSQL it also times the write-path cost of the index retention adds.
//   npx tsx bench/retention.ts [postgres|pglite|both] [finished-rows, default 1000000]
// PostgreSQL: HERALD_BENCH_DATABASE_URL (a server whose user may create databases), or
// else a throwaway server started from the machine's initdb/pg_ctl (durable settings).
// PGlite keeps its files in a temporary directory, as `npm start` does in ./data.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ManualClock } from '../src/clock.js';
import { startRetentionSweeper } from '../src/delivery/retention.js';
import { makeLogger } from '../src/logger.js';
import type { Db } from '../src/store/db.js';
import { findMessage, listAttempts, listMessages, undeliveredStates } from '../src/store/messages.js';
import { migrate } from '../src/store/migrate.js';
import { makePgliteDb } from '../src/store/pglite-db.js';
import { makePostgresDb } from '../src/store/postgres-db.js';
import { claimDeliveries } from '../src/store/sql/claim-deliveries.js';
import { listUndelivered } from '../src/store/undelivered.js';

const [which = 'both', rowsArg] = process.argv.slice(2);
const FINISHED = Number(rowsArg ?? 1_000_000);
const SUBSCRIPTIONS = 16;
const YOUNG = Math.round(FINISHED / 10); // delivered within the retention: kept
const OLD_FAILED = 1000; // undelivered messages of a live subscription: kept
const DUE = 10_000; // pending, due now: what claims take
const CHUNK = 100_000;

const ORG = '0f60dbc0-fab5-11e7-b884-62da5a369555';
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const day = (n: number) => new Date(T0 + n * DAY_MS);
const NOW = day(100); // retention 30 days: the cutoff is day 70
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const log = makeLogger({ logLevel: 'silent', logFormat: 'json' });

async function fill(db: Db): Promise<{ subs: number[]; probeMessageId: string }> {
  await db.query(`insert into organizations (uuid, object_id, name, created_at, updated_at) values ($1, 'aaaaaaaaaaaaaaaaaaaaaaaa', 'o', $2, $2)`, [
    ORG,
    day(0),
  ]);
  const subs = (
    await db.query<{ id: number }>(
      `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email, status,
                                  signing_key, created_by, livemode, created_at, updated_at)
       select gen_random_uuid(), $1, 'WEBHOOK', '{}', 'https://h' || g || '.example.com/hook', 'a@b.se', 'ACTIVE',
              gen_random_uuid()::text, 'api_key:x', true, $2, $2
         from generate_series(1, $3::int) g returning id`,
      [ORG, day(0), SUBSCRIPTIONS],
    )
  ).rows.map((r) => r.id);
  // Events, then one delivery each (in event order, so ids follow time), then attempts.
  const batch = async (n: number, from: Date, spanMs: number, state: string, attempts: number, due: boolean) => {
    for (let done = 0; done < n; done += CHUNK) {
      const k = Math.min(CHUNK, n - done);
      await db.query(
        `with ev as (
           insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at)
           select $1, 'PaymentCreated', gen_random_uuid()::text,
                  json_build_object('n', g, 'amount', g % 1000, 'note', repeat('x', 400)),
                  true, $2::timestamptz + ((($3::bigint + g) * $4::float8 / $5::bigint) * interval '1 millisecond')
             from generate_series(1, $6::int) g
           returning id, created_at
         ), d as (
           insert into deliveries (event_id, subscription_id, state, attempts, next_attempt_at, created_at, finished_at, last_status)
           select id, ($7::bigint[])[(1 + id % $8)::int], $9, $10, created_at, created_at,
                  case when $9 = 'pending' then null else created_at + interval '1 second' end,
                  case when $9 = 'delivered' then 200 else 503 end
             from ev order by id
           returning id, created_at, attempts
         )
         insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome, status_code)
         select d.id, gen_random_uuid()::text, d.created_at + k * interval '1 second', 20,
                case when $9 = 'delivered' then 'success' else 'failure' end, case when $9 = 'delivered' then 200 else 503 end
           from d, generate_series(1, d.attempts) k`,
        [ORG, from, done, spanMs, n, k, subs, SUBSCRIPTIONS, state, attempts],
      );
      process.stderr.write('.');
    }
    if (due) await db.query(`update deliveries set next_attempt_at = $1 where state = 'pending'`, [NOW]);
  };
  const t = performance.now();
  await batch(FINISHED, day(1), 59 * DAY_MS, 'delivered', 1, false); // days 1-60: old, finished
  await batch(OLD_FAILED, day(60), DAY_MS, 'failed', 3, false); // old, undelivered, live subscription: kept
  await batch(YOUNG, day(80), 19 * DAY_MS, 'delivered', 1, false); // days 80-99: kept
  await batch(DUE, day(100 - 1 / 24), 3600_000, 'pending', 0, true); // the last hour: due now
  process.stderr.write(` filled in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  // A message of subscription 1 within the retention, for the attempts query.
  const probe = await db.query<{ message_id: string }>(
    `select e.message_id from deliveries d join events e on e.id = d.event_id
      where d.subscription_id = $1 and d.state = 'delivered' and d.created_at > $2 order by d.id limit 1`,
    [subs[0], day(90)],
  );
  return { subs, probeMessageId: probe.rows[0]!.message_id };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

class Rollback extends Error {}

/** One claim of 64 due rows as the worker makes it, rolled back so every run sees the same rows. */
async function claimOnce(db: Db): Promise<number> {
  let ms = 0;
  await db
    .transaction(async (tx) => {
      const t = performance.now();
      const { deliveries: rows } = await claimDeliveries(tx, {
        now: NOW,
        leaseUntil: new Date(NOW.getTime() + 60_000),
        limit: 64,
        scan: 256,
        skipOrigins: [],
        initialLimit: 8,
        ceiling: 32,
        own: new Map(),
        workerId: 'bench',
        aliveSeconds: 6,
      });
      ms = performance.now() - t;
      if (rows.length === 0) throw new Error('nothing to claim');
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return ms;
}

type Queries = Record<string, number>;

async function queries(db: Db, subs: number[], probeMessageId: string): Promise<Queries> {
  const sub = subs[0]!;
  const claims: number[] = [];
  for (let i = 0; i < 21; i++) claims.push(await claimOnce(db));
  return {
    'claim (64 of 10,000 due rows)': median(claims.slice(1)),
    'messages, newest page (state=all)': await time(20, () => listMessages(db, sub, { states: null, limit: 51, beforeId: null })),
    'messages, state=undelivered': await time(20, () => listMessages(db, sub, { states: undeliveredStates(), limit: 51, beforeId: null })),
    'attempts of one message': await time(20, async () => {
      const m = await findMessage(db, sub, probeMessageId);
      await listAttempts(db, m!.delivery_id);
    }),
    '/undelivered page (16 subscriptions)': await time(20, () => listUndelivered(db, subs, { limit: 20, offset: 0 })),
  };
}

async function sizes(db: Db): Promise<string> {
  const r = await db.query<{ deliveries: number; events: number; attempts: number }>(
    `select (select count(*) from deliveries) as deliveries, (select count(*) from events) as events, (select count(*) from attempts) as attempts`,
  );
  const s = r.rows[0]!;
  return `${s.deliveries} deliveries, ${s.events} events, ${s.attempts} attempts`;
}

async function runOn(name: string, db: Db): Promise<void> {
  await migrate(db);
  const { subs, probeMessageId } = await fill(db);
  await db.exec('vacuum analyze');
  console.log(`\n## ${name}: ${await sizes(db)}`);
  const before = await queries(db, subs, probeMessageId);

  // The sweep as a worker runs it (batches of 1000, pauses as long as each batch), with
  // the worker's claim running beside it every 20 ms.
  const sweeper = startRetentionSweeper({
    db,
    clock: new ManualClock(NOW),
    log,
    config: { retentionDays: 30, retentionBatchSize: 1000, retentionIntervalSeconds: null },
  });
  let sweeping = true;
  const during: number[] = [];
  // PGlite runs each statement on this thread: its longest statement shows as event-loop delay.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const claimer = (async () => {
    while (sweeping) {
      const t = performance.now();
      await claimOnce(db);
      during.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const r = await sweeper.sweep();
  sweeping = false;
  loop.disable();
  await claimer;
  await sweeper.stop();
  const removed = r.deliveries + r.events;
  console.log(
    `sweep: ${r.deliveries} deliveries (+ their attempts), ${r.events} events in ${(r.durationMs / 1000).toFixed(1)} s, ` +
      `${r.batches} batches, longest ${r.longestBatchMs.toFixed(0)} ms; ${Math.round(removed / (r.durationMs / 1000))} rows/s with pauses` +
      (r.vacuumMs > 0 ? `; its VACUUMs (PGlite) ${r.vacuumMs.toFixed(0)} ms in all` : ''),
  );
  during.sort((a, b) => a - b);
  console.log(`event-loop delay during the sweep: max ${(loop.max / 1e6).toFixed(0)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms`);
  console.log(
    `claim during the sweep (${during.length} claims, round trip): p50 ${median(during).toFixed(1)} ms, ` +
      `p99 ${during[Math.floor(during.length * 0.99)]!.toFixed(1)} ms, max ${during[during.length - 1]!.toFixed(1)} ms`,
  );
  // A sweep with nothing left to remove reads the kept rows at the low end of each table
  // and one batch beyond; before VACUUM it also steps over the index entries of the rows
  // just deleted.
  const emptySweep = async (when: string) => {
    const again = await startRetentionSweeper({
      db,
      clock: new ManualClock(NOW),
      log,
      config: { retentionDays: 30, retentionBatchSize: 1000, retentionIntervalSeconds: null },
    }).sweep();
    const vacuum = again.vacuumMs > 0 ? ` (VACUUMs ${again.vacuumMs.toFixed(0)} ms)` : '';
    console.log(`a sweep with nothing to remove, ${when}: ${again.durationMs.toFixed(0)} ms${vacuum}, ${again.batches} batches`);
  };
  await emptySweep('right after');
  const afterSweep = await queries(db, subs, probeMessageId);
  await db.exec('vacuum analyze');
  console.log(`after: ${await sizes(db)}`);
  await emptySweep('after VACUUM');
  const afterVacuum = await queries(db, subs, probeMessageId);

  console.log('\n| query, median ms | before | right after the sweep | after VACUUM |\n| --- | --- | --- | --- |');
  for (const k of Object.keys(before)) {
    console.log(`| ${k} | ${before[k]!.toFixed(2)} | ${afterSweep[k]!.toFixed(2)} | ${afterVacuum[k]!.toFixed(2)} |`);
  }
}

/**
 * The write path's cost of deliveries_event: 200,000 deliveries inserted, claimed once and
 * delivered (one statement each per 50,000), with and without the index; best of 4.
 */
async function indexCost(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const setup = `drop table if exists d2; drop table if exists e2;
    create table e2 (id bigserial primary key);
    create table d2 (id bigserial primary key, event_id bigint not null references e2 (id) on delete cascade,
      subscription_id bigint not null, state text not null, attempts int not null default 0, next_attempt_at timestamptz not null,
      leased_by text, finished_at timestamptz, created_at timestamptz not null);
    create index d2_due on d2 (next_attempt_at, id) where state = 'pending';
    create index d2_sub on d2 (subscription_id, id);`;
  const best: Record<string, number> = {};
  for (let run = 0; run < 4; run++) {
    for (const [label, extra] of [
      ['without', ''],
      ['with deliveries_event', 'create index d2_event on d2 (event_id);'],
    ] as const) {
      await c.query(setup + extra);
      await c.query('insert into e2 select from generate_series(1, 50000)');
      await c.query('checkpoint');
      const t = performance.now();
      for (let k = 0; k < 4; k++) {
        await c.query(
          `insert into d2 (event_id, subscription_id, state, next_attempt_at, created_at)
           select e, (e % 97) + s, 'pending', now(), now() from generate_series(${k * 12500 + 1}, ${(k + 1) * 12500}) e, generate_series(1, 4) s`,
        );
        await c.query(`update d2 set next_attempt_at = now() + interval '1 min', leased_by = 'w', attempts = attempts + 1 where state = 'pending'`);
        await c.query(`update d2 set state = 'delivered', finished_at = now(), leased_by = null where state = 'pending'`);
      }
      const ms = performance.now() - t;
      best[label] = Math.min(best[label] ?? Infinity, ms);
    }
  }
  await c.query('drop table d2; drop table e2');
  await c.end();
  const us = (ms: number) => ((ms * 1000) / 200_000).toFixed(1);
  console.log(
    `\nwrite path, 200,000 deliveries inserted + claimed + delivered in bulk: without deliveries_event ${best.without!.toFixed(0)} ms ` +
      `(${us(best.without!)} us each), with ${best['with deliveries_event']!.toFixed(0)} ms (${us(best['with deliveries_event']!)} us each)`,
  );
}

async function main() {
  if (which === 'pglite' || which === 'both') {
    const dir = mkdtempSync(join(tmpdir(), 'herald-retention-'));
    try {
      const db = await makePgliteDb(join(dir, 'pglite'));
      try {
        await runOn('PGlite', db);
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (which === 'postgres' || which === 'both') {
    let serverUrl = process.env.HERALD_BENCH_DATABASE_URL;
    let stopDir: string | undefined;
    if (!serverUrl) {
      const out = execFileSync('bash', [here('../scripts/temp-postgres.sh')], { env: { ...process.env, HERALD_PG_DURABLE: '1' } }).toString();
      serverUrl = /HERALD_PG_URL='([^']+)'/.exec(out)?.[1];
      stopDir = /HERALD_PG_DIR='([^']+)'/.exec(out)?.[1];
    }
    const name = `herald_retention_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    try {
      const db = await makePostgresDb(url.toString(), { poolSize: 4 });
      try {
        await runOn('PostgreSQL', db);
      } finally {
        await db.close();
      }
      await indexCost(url.toString());
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      if (stopDir) execFileSync('bash', [here('../scripts/temp-postgres-stop.sh'), stopDir]);
    }
  }
}

await main();
