// A fleet of workers on one PostgreSQL shares each destination's learned limit (issue 12):
// the limit lives in the database and every claim counts the other workers' deliveries in
// flight, so two workers together never send a destination more than its limit, and a
// Retry-After one of them hears pauses the destination for both.
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

const postgres = testDatabases().find((b) => b.name === 'postgres');

/** Deliveries this Herald's worker made, from its own /metrics. */
async function deliveredBy(h: TestHerald): Promise<number> {
  const text = await (await h.request('/metrics')).text();
  const m = /herald_delivery_attempts_total\{outcome="delivered"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('a fleet of workers shares each destination limit (PostgreSQL)', { skip: postgres ? false : 'needs HERALD_TEST_DATABASE_URL' }, () => {
  // Each worker alone sends at most 2 at once (its concurrency), the destination's limit is
  // 3: the two reach 3 together only by both sending, and 4 only by ignoring each other.
  const CEILING = 3;
  let testDb: TestDb;
  let a: TestHerald;
  let b: TestHerald;
  let receiver: TestReceiver;
  let cred: TestCredential;
  const clock = new ManualClock(Date.now());

  before(async () => {
    testDb = await postgres!.open();
    receiver = await startReceiver();
    const config = {
      // Both open the subscriptions' signing keys: one key for the fleet.
      encryptionKey: randomBytes(32),
      perDestinationConcurrency: CEILING,
      workerConcurrency: 2,
      pollIntervalMs: 60_000,
      deliveryTimeoutMs: 10_000,
      leaseSeconds: 60,
      retrySchedule: [60, 60],
    };
    a = await startTestHerald(postgres!, { testDb, clock, roles: { api: true, worker: true }, config });
    b = await startTestHerald(postgres!, { testDb, clock, roles: { api: true, worker: true }, config });
    cred = await createCredential(a, ALL_SCOPES);
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await receiver?.close();
    await testDb?.dispose();
  });

  async function subscribe(tag: string, eventNames: string[]): Promise<void> {
    const res = await asCredential(a, cred)('POST', '/organizations/self/subscriptions', {
      uuid: uuidv1(),
      transportName: 'WEBHOOK',
      eventNames,
      destination: `${receiver.url}?s=${tag}`,
      contactEmail: `${tag}@example.com`,
    });
    assert.equal(res.status, 200, await res.clone().text());
  }

  async function publish(eventName: string, n: number, from = 0): Promise<void> {
    for (let i = from; i < from + n; i += 100) {
      const events = Array.from({ length: Math.min(100, from + n - i) }, (_, k) => ({ eventName, payload: { n: i + k } }));
      const res = await a.admin(`/admin/organizations/${cred.organizationUuid}/events/batch`, { method: 'POST', body: JSON.stringify({ events }) });
      assert.equal(res.status, 202, await res.clone().text());
    }
  }

  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      a.worker!.wake();
      b.worker!.wake();
      await Promise.all([a.worker!.idle(), b.worker!.idle()]);
    }
  };

  it('two workers together never have more requests in flight to a destination than its limit', async () => {
    await subscribe('limit', ['PaymentCreated']);
    receiver.reset();
    let open = 0;
    let most = 0;
    receiver.respondWith(async () => {
      most = Math.max(most, ++open);
      await new Promise((r) => setTimeout(r, 15));
      open--;
      return { status: 200 };
    });
    const before = [await deliveredBy(a), await deliveredBy(b)];
    await publish('PaymentCreated', 300);
    a.worker!.wake();
    b.worker!.wake();
    await receiver.waitFor(300);
    await settle();
    const byA = (await deliveredBy(a)) - before[0]!;
    const byB = (await deliveredBy(b)) - before[1]!;
    assert.equal(byA + byB, 300);
    assert.ok(byA > 0 && byB > 0, `worker a delivered ${byA}, worker b ${byB}`);
    assert.ok(most <= CEILING, `${most} requests were in flight at once; the limit is ${CEILING}`);
    assert.equal(most, CEILING, 'both workers sent at once, up to the shared limit');
  });

  it("a Retry-After heard by one worker pauses the destination for the other", async () => {
    await subscribe('pause', ['InvoiceCreated']);
    receiver.reset();
    receiver.respondWith(() => ({ status: 503, headers: { 'retry-after': '120' } }));
    await publish('InvoiceCreated', 1);
    a.worker!.wake();
    b.worker!.wake();
    await receiver.waitFor(1);
    await settle();
    receiver.respondWith(200);
    await publish('InvoiceCreated', 20, 1);
    await settle();
    clock.advance(61_000); // the first message's retry is due, the new ones were due at once
    await settle();
    assert.equal(receiver.requests.length, 1, 'neither worker sent to the paused destination');
    clock.advance(60_000);
    await settle();
    await receiver.waitFor(22);
    await settle();
    assert.equal(receiver.requests.length, 22, 'after the pause: the first message again and the 20 new ones');
  });
});
