// The claim's fleet guarantee at the statement level (PostgreSQL, where workers claim side
// by side): a claim holds its origins' locks until its transaction ends, and the next
// claim of those origins waits for it and then counts what it took. Without the lock, the
// second claim would not see the first one's uncommitted leases and would take a second
// limit's worth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimDeliveries } from '../../src/store/sql/claim-deliveries.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { seedDueDelivery, seedSubscription } from '../helpers/store-contents.js';

const postgres = testDatabases().find((b) => b.name === 'postgres');
const ORG = '0f60dbc0-fab5-11e7-b884-62da5a369555';
const T0 = new Date('2026-01-01T00:00:00Z');
const LIMIT = 3;

describe('claims of one origin by two workers (PostgreSQL)', { skip: postgres ? false : 'needs HERALD_TEST_DATABASE_URL' }, () => {
  let t: TestDb;
  before(async () => {
    t = await postgres!.open();
    await seedSubscription(t.db, ORG, T0);
    for (let i = 0; i < 20; i++) await seedDueDelivery(t.db, ORG, T0);
  });
  after(() => t?.dispose());

  const options = (workerId: string) => ({
    now: T0,
    leaseUntil: new Date(T0.getTime() + 60_000),
    limit: 10,
    // A scan locks its candidates (skip locked): A's 5 leave B other rows of the origin.
    scan: 5,
    skipOrigins: [],
    initialLimit: LIMIT,
    ceiling: LIMIT,
    own: new Map<string, number>(),
    workerId,
    aliveSeconds: 6,
  });

  it('the second claim waits for the first and takes only what the limit leaves', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let claimedA!: () => void;
    const aClaimed = new Promise<void>((r) => (claimedA = r));
    const a = t.db.transaction(async (tx) => {
      const c = await claimDeliveries(tx, options('worker-a'));
      claimedA();
      await held; // A's transaction stays open: its leases are not committed yet
      return c.deliveries.length;
    });
    await aClaimed;
    let bDone = false;
    const b = claimDeliveries(t.db, options('worker-b')).then((c) => {
      bDone = true;
      return c.deliveries.length;
    });
    try {
      // B reaches the origin's lock and waits there (pg_stat_activity shows it waiting on an advisory lock).
      for (;;) {
        const w = await t.db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
        );
        if (w.rows[0]!.n > 0) break;
        assert.equal(bDone, false, 'B finished while A held the lock');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      release(); // A commits (also when B did not wait: the test fails, and ends)
    }
    assert.equal(await a, LIMIT);
    assert.equal(await b, 0, 'B counted A\'s leases: the origin was at its limit');
    const leased = await t.db.query<{ n: number }>(`select count(*)::int as n from deliveries where leased_by is not null`);
    assert.equal(leased.rows[0]!.n, LIMIT);
  });
});
