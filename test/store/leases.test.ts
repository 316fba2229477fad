// The lease guarantee (issue 13 item 9): a worker's result counts only while it still
// holds the delivery's lease. Worker A claims a delivery, its lease runs out, worker B
// claims it again; then A's late success, retry or give-up must change nothing, and B's
// result still counts. On both databases, against the store's own statements.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimDeliveries, type ClaimedDelivery } from '../../src/store/sql/claim-deliveries.js';
import { recordFailures, type FailureRecord } from '../../src/store/sql/record-failure.js';
import { recordSuccesses } from '../../src/store/sql/record-successes.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { seedDueDelivery, seedSubscription } from '../helpers/store-contents.js';

const ORG = '0f60dbc0-fab5-11e7-b884-62da5a369555';
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

interface DeliveryState {
  state: string;
  leased_by: string | null;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
}

for (const backend of testDatabases()) {
  describe(`leases: a late worker's result changes nothing: ${backend.name}`, () => {
    let t: TestDb;
    before(async () => {
      t = await backend.open();
      await seedSubscription(t.db, ORG, T0);
    });
    after(() => t.dispose());

    const newDelivery = () => seedDueDelivery(t.db, ORG, T0);

    const claim = async (workerId: string, nowSeconds: number, leaseSeconds = 60): Promise<ClaimedDelivery[]> =>
      (
        await claimDeliveries(t.db, {
          now: at(nowSeconds),
          leaseUntil: at(nowSeconds + leaseSeconds),
          limit: 10,
          scan: 100,
          skipOrigins: [],
          initialLimit: 10,
          ceiling: 10,
          own: new Map(),
          workerId,
          aliveSeconds: 6,
        })
      ).deliveries;

    const stateOf = async (id: number) =>
      (
        await t.db.query<DeliveryState>('select state, leased_by, attempts, next_attempt_at, last_status from deliveries where id = $1', [
          id,
        ])
      ).rows[0]!;

    /** A claims, its lease runs out, B claims: returns both claims of the row. */
    async function takenOver(): Promise<{ id: number; a: ClaimedDelivery; b: ClaimedDelivery }> {
      const id = await newDelivery();
      const [a] = (await claim('worker-a', 0)).filter((c) => c.id === id);
      assert.ok(a, 'A claimed it');
      assert.equal((await claim('worker-b', 30)).filter((c) => c.id === id).length, 0, 'not while A holds the lease');
      const [b] = (await claim('worker-b', 61)).filter((c) => c.id === id);
      assert.ok(b, 'B claimed it once the lease ran out');
      assert.equal(b.attempts, a.attempts + 1);
      return { id, a, b };
    }

    const success = (d: ClaimedDelivery) => ({
      deliveryId: d.id,
      attempt: d.attempts,
      status: 200,
      startedAt: at(62),
      latencyMs: 5,
      attemptId: `attempt-${d.attempts}`,
      excerpt: 'ok',
    });

    it("A's late success leaves B's claim as it is; B's success counts", async () => {
      const { id, a, b } = await takenOver();
      const before = await stateOf(id);
      const r = await recordSuccesses(t.db, [success(a)], at(62), 'worker-a');
      assert.equal(r.delivered, 0);
      assert.deepEqual(await stateOf(id), before, 'still pending, leased by B');
      assert.equal(before.leased_by, 'worker-b');
      assert.equal((await recordSuccesses(t.db, [success(b)], at(63), 'worker-b')).delivered, 1);
      assert.equal((await stateOf(id)).state, 'delivered');
    });

    it("A's late retry or give-up leaves B's claim as it is; B's retry counts", async () => {
      const { id, a, b } = await takenOver();
      const before = await stateOf(id);
      const failure = (attempt: number, status: number, retryAt: Date | null): FailureRecord => ({
        deliveryId: id,
        attempt,
        attemptId: `attempt-${attempt}-${status}`,
        startedAt: at(61),
        latencyMs: 5,
        statusCode: status,
        errorClass: 'http_status',
        errorMessage: `answered ${status}`,
        excerpt: null,
        retryAt,
      });
      assert.deepEqual(await recordFailures(t.db, [failure(a.attempts, 503, at(120))], at(62), 'worker-a'), []);
      assert.deepEqual(await stateOf(id), before);
      assert.deepEqual(await recordFailures(t.db, [failure(a.attempts, 410, null)], at(62), 'worker-a'), []);
      assert.deepEqual(await stateOf(id), before);
      // The same worker id with an older attempt number (a claim it lost, then made again) is stale too.
      assert.deepEqual(await recordFailures(t.db, [failure(a.attempts, 410, null)], at(62), 'worker-b'), []);
      assert.deepEqual(await stateOf(id), before);
      assert.equal((await recordFailures(t.db, [failure(b.attempts, 503, at(120))], at(62), 'worker-b')).length, 1);
      const after = await stateOf(id);
      assert.deepEqual([after.state, after.leased_by, after.last_status], ['pending', null, 503]);
    });
  });
}
