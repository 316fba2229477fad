// Retention's statements and sweep loop against the store, with rows written directly
// (store/sql/retention.ts, delivery/retention.ts): exactly which rows go, that a sweep
// goes through a table in batches and stops at the first young row, and, on PostgreSQL,
// that it never waits for a row another transaction holds and skips its turn while
// another process sweeps.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import { startRetentionSweeper, type RetentionSweeper } from '../../src/delivery/retention.js';
import { makeLogger } from '../../src/logger.js';
import { testDatabases, type TestDb } from '../helpers/db.js';

const ORG = '0f60dbc0-fab5-11e7-b884-62da5a369555';
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const day = (n: number) => new Date(T0 + n * DAY_MS);
// Now is day 100; with 30 days of retention, the cutoff is day 70.
const NOW = day(100);

const log = makeLogger({ logLevel: 'silent', logFormat: 'json' });

for (const backend of testDatabases()) {
  describe(`retention store: ${backend.name}`, () => {
    let t: TestDb;
    let subs: { live: number; deletedLongAgo: number; deletedRecently: number };
    before(async () => {
      t = await backend.open();
    });
    after(() => t.dispose());

    beforeEach(async () => {
      await t.db.exec('delete from deliveries; delete from events; delete from mails; delete from subscriptions; delete from organizations');
      await t.db.query(`insert into organizations (uuid, object_id, name, created_at, updated_at) values ($1, 'aaaaaaaaaaaaaaaaaaaaaaaa', 'o', $2, $2)`, [
        ORG,
        day(0),
      ]);
      const sub = async (deletedAt: Date | null) =>
        (
          await t.db.query<{ id: number }>(
            `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email, status,
                                        signing_key, created_by, livemode, created_at, updated_at, deleted_at)
             values (gen_random_uuid(), $1, 'WEBHOOK', '{}', 'https://hooks.example.com/x', 'a@b.se', 'ACTIVE', gen_random_uuid()::text,
                     'api_key:x', true, $2, $2, $3) returning id`,
            [ORG, day(0), deletedAt],
          )
        ).rows[0]!.id;
      subs = { live: await sub(null), deletedLongAgo: await sub(day(60)), deletedRecently: await sub(day(80)) };
    });

    /**
     * n events created on `created`, each with one delivery of `subscription` in `state`
     * (finished on `finished`) and two attempts; returns the delivery ids.
     */
    async function deliveries(
      n: number,
      o: { created: Date; finished: Date | null; state: 'pending' | 'delivered' | 'failed' | 'cancelled'; subscription: number },
    ): Promise<number[]> {
      const r = await t.db.query<{ id: number }>(
        `with ev as (
           insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at)
           select $1, 'PaymentCreated', gen_random_uuid()::text, '{"n": 1}', true, $2 from generate_series(1, $5::int)
           returning id
         ), d as (
           insert into deliveries (event_id, subscription_id, state, attempts, next_attempt_at, created_at, finished_at)
           select id, $3, $4, 2, $2, $2, $6 from ev order by id returning id
         ), a as (
           insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome)
           select d.id, 'a' || d.id || '-' || k, $2, 5, 'failure' from d, generate_series(1, 2) k
         )
         select id from d order by id`,
        [ORG, o.created, o.subscription, o.state, n, o.finished],
      );
      return r.rows.map((x) => x.id);
    }

    const remaining = async (ids: number[]) =>
      (await t.db.query<{ id: number }>('select id from deliveries where id = any ($1::bigint[]) order by id', [ids])).rows.map((r) => r.id);
    const count = async (sql: string) => (await t.db.query<{ n: number }>(sql)).rows[0]!.n;

    const sweeper = (batchSize: number): RetentionSweeper =>
      startRetentionSweeper({
        db: t.db,
        clock: new ManualClock(NOW),
        log,
        config: { retentionDays: 30, retentionBatchSize: batchSize, retentionIntervalSeconds: null },
        pauseMs: 0,
      });

    it('removes exactly the old finished rows, with their attempts and events, in batches', async () => {
      // Lays rows down in id order: old ones first, as time does.
      const oldDelivered = await deliveries(25, { created: day(10), finished: day(11), state: 'delivered', subscription: subs.live });
      const kept = [
        // Undelivered messages of a live subscription, however old.
        ...(await deliveries(3, { created: day(10), finished: day(13), state: 'failed', subscription: subs.live })),
        ...(await deliveries(2, { created: day(10), finished: day(13), state: 'cancelled', subscription: subs.live })),
        ...(await deliveries(2, { created: day(10), finished: null, state: 'pending', subscription: subs.live })),
        // A pending delivery of a subscription deleted long ago (the claim cancels it; retention leaves it).
        ...(await deliveries(1, { created: day(10), finished: null, state: 'pending', subscription: subs.deletedLongAgo })),
        // Failed before the cutoff, but its subscription was deleted after it.
        ...(await deliveries(2, { created: day(20), finished: day(21), state: 'failed', subscription: subs.deletedRecently })),
      ];
      const oldOfDeleted = [
        ...(await deliveries(4, { created: day(20), finished: day(21), state: 'failed', subscription: subs.deletedLongAgo })),
        ...(await deliveries(2, { created: day(20), finished: day(21), state: 'cancelled', subscription: subs.deletedLongAgo })),
      ];
      // Created before the cutoff, delivered after it (a long retry or a resend).
      kept.push(...(await deliveries(2, { created: day(50), finished: day(75), state: 'delivered', subscription: subs.live })));
      kept.push(...(await deliveries(5, { created: day(80), finished: day(81), state: 'delivered', subscription: subs.live })));
      // Events without deliveries: an old one goes, a young one stays.
      await t.db.query(
        `insert into events (organization_uuid, event_name, message_id, payload, livemode, created_at)
         values ($1, 'PaymentCreated', 'unheard-old', '{}', true, $2), ($1, 'PaymentCreated', 'unheard-young', '{}', true, $3)`,
        [ORG, day(12), day(90)],
      );

      const s = sweeper(10);
      const r = await s.sweep();
      await s.stop();
      assert.equal(r.swept, true);
      assert.equal(r.deliveries, oldDelivered.length + oldOfDeleted.length);
      assert.equal(r.events, oldDelivered.length + oldOfDeleted.length + 1);
      assert.ok(r.batches > 5, `went through the tables in batches of 10 (${r.batches} batches)`);
      assert.deepEqual(await remaining([...oldDelivered, ...oldOfDeleted]), []);
      assert.deepEqual(await remaining(kept), kept);
      assert.equal(await count('select count(*) as n from attempts'), kept.length * 2, 'attempts went with their deliveries');
      assert.equal(
        await count('select count(*) as n from events e where not exists (select 1 from deliveries d where d.event_id = e.id)'),
        1,
        'only the young unreferenced event is left unreferenced',
      );
      assert.equal(await count(`select count(*) as n from events where message_id = 'unheard-young'`), 1);
      assert.equal(await count('select count(*) as n from events'), kept.length + 1);
    });

    it('reads one batch past the old rows and no further', async () => {
      await deliveries(50, { created: day(80), finished: day(80), state: 'delivered', subscription: subs.live });
      const s = sweeper(10);
      const r = await s.sweep();
      await s.stop();
      assert.deepEqual([r.deliveries, r.events, r.mails], [0, 0, 0]);
      assert.equal(r.batches, 3, 'one batch per table: the first row read is young');
    });

    it('removes mails written before the cutoff, sent or not', async () => {
      await t.db.query(
        `insert into mails (organization_uuid, subscription_uuid, kind, to_address, subject, body, created_at, next_attempt_at, sent_at)
         values ($1, gen_random_uuid(), 'failing', 'a@b.se', 's', 'b', $2, $2, $2),
                ($1, gen_random_uuid(), 'failing', 'a@b.se', 's', 'b', $2, $2, null),
                ($1, gen_random_uuid(), 'exhausted', 'a@b.se', 's', 'b', $3, $3, null)`,
        [ORG, day(40), day(75)],
      );
      const s = sweeper(10);
      const r = await s.sweep();
      await s.stop();
      assert.equal(r.mails, 2);
      assert.deepEqual((await t.db.query<{ kind: string }>('select kind from mails')).rows, [{ kind: 'exhausted' }]);
    });

    it("reuses the removed rows' space, so the files stop growing (PGlite has no autovacuum: the sweep vacuums)", async () => {
      const size = async () =>
        count(`select pg_total_relation_size('deliveries') + pg_total_relation_size('attempts') + pg_total_relation_size('events') as n`);
      // Four retention periods of the same traffic: each sweep removes what the one before saw come in.
      const clock = new ManualClock(NOW);
      const peaks: number[] = [];
      for (let period = 0; period < 4; period++) {
        const created = new Date(clock.now().getTime() - 40 * DAY_MS);
        await deliveries(3000, { created, finished: created, state: 'delivered', subscription: subs.live });
        peaks.push(await size());
        const s = startRetentionSweeper({
          db: t.db,
          clock,
          log,
          config: { retentionDays: 30, retentionBatchSize: 1000, retentionIntervalSeconds: null },
          pauseMs: 0,
        });
        const r = await s.sweep();
        await s.stop();
        assert.equal(r.deliveries, 3000);
        if (backend.name === 'postgres') assert.equal(r.vacuumMs, 0, 'PostgreSQL: autovacuum does it');
        clock.advance(40 * DAY_MS);
      }
      // Freed pages are reused from the second period on (index pages a period later):
      // the last period adds next to nothing. Without the VACUUM each period added as much
      // as the first period's rows take (2.5, 4.7, 6.9, 9.2 MB).
      const last = peaks[3]! - peaks[2]!;
      if (backend.name === 'pglite') assert.ok(last < peaks[0]! / 10, `peaks ${peaks.join(', ')}: the last period added ${last} bytes`);
    });

    if (backend.name === 'postgres') {
      /** A second connection to the same database, for a transaction the sweep runs beside. */
      const withOtherConnection = async (fn: (c: pg.Client) => Promise<void>) => {
        const c = new pg.Client({ connectionString: t.url });
        await c.connect();
        try {
          await fn(c);
        } finally {
          await c.end();
        }
      };
      const within = <T>(p: Promise<T>, ms: number, what: string) =>
        Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} waited ${ms} ms`)), ms).unref())]);

      it('skips a row another transaction holds, instead of waiting for it', async () => {
        const ids = await deliveries(5, { created: day(10), finished: day(11), state: 'delivered', subscription: subs.live });
        await withOtherConnection(async (c) => {
          await c.query('begin');
          await c.query('select id from deliveries where id = $1 for update', [ids[2]]);
          const s = sweeper(10);
          const r = await within(s.sweep(), 5000, 'the sweep');
          await s.stop();
          assert.equal(r.deliveries, 4);
          assert.deepEqual(await remaining(ids), [ids[2]]);
          assert.equal(r.events, 4, "the held row's event stays with it");
          await c.query('commit');
        });
        const s = sweeper(10);
        const r = await s.sweep();
        await s.stop();
        assert.deepEqual([r.deliveries, r.events, await remaining(ids)], [1, 1, []]);
      });

      it('skips its turn while another process sweeps', async () => {
        const ids = await deliveries(5, { created: day(10), finished: day(11), state: 'delivered', subscription: subs.live });
        await withOtherConnection(async (c) => {
          await c.query('begin');
          await c.query('select pg_advisory_xact_lock(727012)');
          const s = sweeper(10);
          const r = await within(s.sweep(), 5000, 'the sweep');
          await s.stop();
          assert.deepEqual([r.swept, r.deliveries, r.batches], [false, 0, 0]);
          assert.equal((await remaining(ids)).length, 5);
          await c.query('commit');
        });
      });

      it('two processes sweeping at once remove each old row once and nothing else', async () => {
        const old = await deliveries(400, { created: day(10), finished: day(11), state: 'delivered', subscription: subs.live });
        const kept = await deliveries(50, { created: day(10), finished: day(11), state: 'failed', subscription: subs.live });
        const sweepers = [sweeper(10), sweeper(10)];
        const results = await Promise.all(sweepers.map((s) => s.sweep()));
        await Promise.all(sweepers.map((s) => s.stop()));
        // What one left (it lost the lock to the other mid-sweep) the next sweep takes.
        const s = sweeper(10);
        const last = await s.sweep();
        await s.stop();
        const removed = [...results, last].reduce((n, r) => n + r.deliveries, 0);
        assert.equal(removed, old.length);
        assert.deepEqual(await remaining(old), []);
        assert.deepEqual(await remaining(kept), kept);
      });
    }
  });
}
