// The worker's local queue (issue 12): a worker alone claims ahead of its free slots, as
// many again as it sends at once, so a freed slot starts the next delivery without a
// claim's round trip; when it stops, what waited in its queue goes back to the database
// unstarted (no attempt counted). With another live worker it does not claim ahead
// (deliveries queued in one worker would hold destination limit the other could use).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const CONCURRENCY = 2;

/** Requests the receiver holds until `open()`. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

for (const backend of testDatabases()) {
  describe(`the worker's local queue: ${backend.name}`, () => {
    const clock = new ManualClock(Date.now());
    let testDb: TestDb;
    let receiver: TestReceiver;
    let h: TestHerald | undefined;
    let cred: TestCredential;
    /** Answers every held request (they wait until then). */
    let releaseAll: () => void = () => {};

    const start = async (lease: { deliveryTimeoutMs: number; leaseSeconds: number } = { deliveryTimeoutMs: 5_000, leaseSeconds: 60 }) => {
      h = await startTestHerald(backend, {
        testDb,
        clock,
        roles: { api: true, worker: true },
        config: { encryptionKey, workerConcurrency: CONCURRENCY, pollIntervalMs: 60_000, ...lease },
      });
      return h;
    };
    const encryptionKey = randomBytes(32);

    before(async () => {
      testDb = await backend.open();
      receiver = await startReceiver();
      let held = gate();
      releaseAll = () => {
        held.open();
        held = gate();
      };
      const first = await start();
      cred = await createCredential(first, ALL_SCOPES);
      const res = await asCredential(first, cred)('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['PaymentCreated'],
        destination: `${receiver.url}?s=queue`,
        contactEmail: 'queue@example.com',
      });
      assert.equal(res.status, 200, await res.clone().text());
      // From here on the receiver holds each request until releaseAll().
      receiver.reset();
      receiver.respondWith(async () => {
        await held.wait;
        return { status: 200 };
      });
    });
    after(async () => {
      releaseAll();
      await h?.stop();
      await receiver?.close();
      await testDb?.dispose();
    });

    const publish = async (n: number) => {
      const events = Array.from({ length: n }, (_, i) => ({ eventName: 'PaymentCreated', payload: { n: i } }));
      const res = await h!.admin(`/admin/organizations/${cred.organizationUuid}/events/batch`, { method: 'POST', body: JSON.stringify({ events }) });
      assert.equal(res.status, 202, await res.clone().text());
    };
    /** The deliveries after id `since`. */
    const rows = async (since = 0) =>
      (
        await testDb.db.query<{ state: string; leased: boolean; attempts: number }>(
          `select state, leased_by is not null as leased, attempts from deliveries where id > $1 order by id`,
          [since],
        )
      ).rows;

    it('claims ahead of its free slots, and hands the queued deliveries back unstarted when it stops', async () => {
      await publish(CONCURRENCY * 3);
      // Both slots busy (the receiver holds their requests): one claim took them and as
      // many again for the queue.
      await receiver.waitFor(CONCURRENCY);
      const during = await rows();
      assert.equal(during.filter((r) => r.leased).length, CONCURRENCY * 2, JSON.stringify(during));
      assert.equal(during.filter((r) => r.attempts === 1).length, CONCURRENCY * 2);

      // Stop while the two are in flight: they finish and are recorded; the queued two go back.
      const stopped = h!.stop();
      await new Promise((r) => setTimeout(r, 50));
      releaseAll();
      await stopped;
      h = undefined;
      const after = await rows();
      assert.equal(receiver.requests.length, CONCURRENCY, 'nothing was sent from the queue after stop');
      assert.equal(after.filter((r) => r.state === 'delivered').length, CONCURRENCY);
      const pending = after.filter((r) => r.state === 'pending');
      assert.equal(pending.length, CONCURRENCY * 2);
      assert.deepEqual(
        pending.map((r) => [r.leased, r.attempts]),
        pending.map(() => [false, 0]),
        'handed back: no lease, and the claim did not count as an attempt',
      );

      // The next worker sends them.
      receiver.respondWith(200);
      const next = await start();
      next.worker!.wake();
      await receiver.waitFor(CONCURRENCY * 3);
      await next.worker!.idle();
      assert.equal((await rows()).filter((r) => r.state === 'delivered' && r.attempts === 1).length, CONCURRENCY * 3);
    });

    it('starts what it just claimed even when the lease is barely longer than an attempt', async () => {
      await h?.stop();
      receiver.reset();
      receiver.respondWith(200);
      // Valid (the lease outlasts the timeout); a fixed margin of a second once made every
      // claimed delivery go straight back, in a loop that never sent anything.
      const tight = await start({ deliveryTimeoutMs: 5_500, leaseSeconds: 6 });
      await publish(CONCURRENCY * 3);
      await receiver.waitFor(CONCURRENCY * 3);
      await tight.worker!.idle();
    });

    if (backend.name === 'postgres') {
      it('does not claim ahead while another worker is alive', async () => {
        await h!.stop();
        h = undefined;
        receiver.reset();
        const held = gate();
        receiver.respondWith(async () => {
          await held.wait;
          return { status: 200 };
        });
        // Another worker's heartbeat, as recent as can be.
        await testDb.db.query(`insert into worker_heartbeats (worker_id) values ('another-worker')`);
        await start();
        const since = (await testDb.db.query<{ n: number }>(`select coalesce(max(id), 0)::int as n from deliveries`)).rows[0]!.n;
        await publish(CONCURRENCY * 3);
        await receiver.waitFor(CONCURRENCY);
        const during = await rows(since);
        assert.equal(during.filter((r) => r.leased).length, CONCURRENCY, `only what it sends: ${JSON.stringify(during)}`);
        held.open();
        await receiver.waitFor(CONCURRENCY * 3);
        await testDb.db.query(`delete from worker_heartbeats where worker_id = 'another-worker'`);
      });
    }
  });
}
