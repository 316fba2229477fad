// Ordered (FIFO) subscriptions, Herald's extension (issue 12): a subscription created with
// `ordered: true` receives its messages one at a time, in the order their events were
// accepted, whatever the receiver's answer times; a message waiting for a retry holds back
// the ones after it (and only them: other subscriptions go on); a resend delivers the
// resent messages in their order. On both databases, and on PostgreSQL with two workers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases, type TestDatabase, type TestDb } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

const RETRY_SECONDS = 60;

const setups: { backend: TestDatabase; workers: number }[] = testDatabases().flatMap((backend) =>
  backend.name === 'postgres' ? [{ backend, workers: 1 }, { backend, workers: 2 }] : [{ backend, workers: 1 }],
);

const tagOf = (r: ReceivedRequest) => new URL(r.path, 'http://x').searchParams.get('s');
const numberOf = (r: ReceivedRequest) => (JSON.parse((r.json as { payload: string }).payload) as { n: number }).n;
const isEvent = (r: ReceivedRequest) => (r.json as { eventName?: string }).eventName === 'PaymentCreated';

for (const { backend, workers } of setups) {
  describe(`ordered (FIFO) subscriptions: ${backend.name}, ${workers} worker${workers > 1 ? 's' : ''}`, () => {
    const clock = new ManualClock(Date.now());
    let testDb: TestDb;
    const heralds: TestHerald[] = [];
    let receiver: TestReceiver;
    let cred: TestCredential;
    let call: ReturnType<typeof asCredential>;
    /** Each request to the ordered subscription, in arrival order: its message number and the answer. */
    const fifo: { n: number; status: number }[] = [];
    let open = 0;
    let mostOpen = 0;
    /** The answer for the ordered subscription's requests. */
    let answer: (n: number, attempt: number) => number = () => 200;
    const attemptsOf = new Map<number, number>();
    const responder = async (req: ReceivedRequest) => {
      if (tagOf(req) !== 'fifo' || !isEvent(req)) return { status: 200 };
      const n = numberOf(req);
      const attempt = (attemptsOf.get(n) ?? 0) + 1;
      attemptsOf.set(n, attempt);
      mostOpen = Math.max(mostOpen, ++open);
      // Shuffled answer times: sent concurrently, these would arrive and finish out of order.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 8)));
      open--;
      const status = answer(n, attempt);
      fifo.push({ n, status });
      return { status };
    };

    before(async () => {
      testDb = await backend.open();
      receiver = await startReceiver();
      const config = {
        encryptionKey: randomBytes(32),
        retrySchedule: [RETRY_SECONDS],
        exhaustedSubscription: 'keep' as const,
        pollIntervalMs: 60_000,
        deliveryTimeoutMs: 5_000,
        leaseSeconds: 30,
      };
      for (let i = 0; i < workers; i++) {
        heralds.push(await startTestHerald(backend, { testDb, clock, roles: { api: true, worker: true }, random: () => 0.5, config }));
      }
      cred = await createCredential(heralds[0]!, ALL_SCOPES);
      call = asCredential(heralds[0]!, cred);
    });
    after(async () => {
      for (const h of heralds.reverse()) await h.stop();
      await receiver?.close();
      await testDb?.dispose();
    });

    /** Lets the workers send everything due now: until a round sends nothing new. */
    async function settle(): Promise<void> {
      for (let quiet = 0; quiet < 2; ) {
        const before = receiver.requests.length;
        for (const h of heralds) h.worker!.wake();
        await Promise.all(heralds.map((h) => h.worker!.idle()));
        quiet = receiver.requests.length === before ? quiet + 1 : 0;
      }
    }

    async function subscribe(tag: string, extra: Record<string, unknown>): Promise<{ uuid: string } & Record<string, unknown>> {
      const res = await call('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['PaymentCreated'],
        destination: `${receiver.url}?s=${tag}`,
        contactEmail: `${tag}@example.com`,
        ...extra,
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { uuid: string };
    }

    /** Publishes messages from..to-1, each accepted before the next is sent (their order). */
    async function publish(from: number, to: number): Promise<void> {
      for (let n = from; n < to; n++) {
        const res = await heralds[0]!.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
          method: 'POST',
          body: JSON.stringify({ eventName: 'PaymentCreated', payload: { n } }),
        });
        assert.equal(res.status, 202);
      }
    }

    const delivered = () => fifo.filter((r) => r.status === 200).map((r) => r.n);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

    it('ordered: true is validated, stored and shown; other subscriptions show nothing new', async () => {
      const bad = await call('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['PaymentCreated'],
        destination: `${receiver.url}?s=bad`,
        contactEmail: 'bad@example.com',
        ordered: 'yes',
      });
      assert.equal(bad.status, 400);
      const why = (await bad.json()) as { violations: { propertyName: string }[] };
      assert.deepEqual(why.violations.map((v) => v.propertyName), ['ordered']);
      const plain = await subscribe('plain', {});
      assert.equal('ordered' in plain, false, 'a subscription that did not ask keeps the original shape');
      const sub = await subscribe('switch', { ordered: true });
      assert.equal(sub.ordered, true);
      const put = await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { ordered: false });
      assert.equal(put.status, 200);
      const list = (await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; ordered?: boolean }[];
      assert.equal(list.find((s) => s.uuid === sub.uuid)!.ordered, undefined);
      assert.equal((await call('DELETE', `/organizations/self/subscriptions/${sub.uuid}`)).status, 204);
      assert.equal((await call('DELETE', `/organizations/self/subscriptions/${plain.uuid}`)).status, 204);
    });

    it('a burst arrives in order, one at a time; a failing message holds back only its successors; a resend keeps the order', async () => {
      const sub = await subscribe('fifo', { ordered: true });
      await subscribe('free', {});
      receiver.reset();
      receiver.respondWith(responder);

      // 1. A burst, the 10th message failing once: 0-9, then nothing of the ordered
      // subscription until 10's retry; the other subscription gets all 30 meanwhile.
      answer = (n, attempt) => (n === 10 && attempt === 1 ? 500 : 200);
      await publish(0, 30);
      await settle();
      assert.deepEqual(delivered(), range(0, 10));
      assert.deepEqual(fifo.map((r) => r.n), [...range(0, 11)], 'nothing after the failed 10 was sent');
      const free = receiver.requests.filter((r) => tagOf(r) === 'free' && isEvent(r)).map(numberOf);
      assert.deepEqual(new Set(free), new Set(range(0, 30)), 'the other subscription is not held back');
      clock.advance(RETRY_SECONDS * 1000);
      await settle();
      assert.deepEqual(delivered(), range(0, 30), 'after the retry, in order');
      assert.equal(mostOpen, 1, 'one request at a time');

      // 2. The destination goes down: each message uses its schedule (2 attempts) and is
      // given up, in order. Then it comes back and everything undelivered is resent.
      answer = () => 503;
      fifo.length = 0;
      await publish(30, 35);
      for (let i = 0; i < 10; i++) {
        await settle();
        clock.advance(RETRY_SECONDS * 1000);
      }
      await settle();
      assert.deepEqual(fifo.map((r) => r.n), [30, 30, 31, 31, 32, 32, 33, 33, 34, 34], 'each given up before the next is tried');
      const undelivered = (await (await call('GET', `/organizations/self/subscriptions/${sub.uuid}/messages?state=undelivered`)).json()) as {
        messages: unknown[];
      };
      assert.equal(undelivered.messages.length, 5);

      answer = () => 200;
      fifo.length = 0;
      const resent = await call('POST', `/organizations/self/subscriptions/${sub.uuid}/resend`);
      assert.equal(resent.status, 202);
      await publish(35, 40); // published after the resend: delivered after the resent ones
      await settle();
      assert.deepEqual(delivered(), range(30, 40), 'the resent messages in their order, then the new ones');
      assert.equal(mostOpen, 1, 'one request at a time');
    });
  });
}
