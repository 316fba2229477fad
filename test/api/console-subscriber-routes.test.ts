// The subscriber routes the Console stands on (issue 11): each subscription's stats, the
// messages list's filters, the request each attempt sent (signatures masked), and the
// test event. A real server and worker, a real receiver, a manual clock for the windows;
// and for each route, another organization's, the other mode's and a narrower
// credential's attempts, which must see and change nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { eventExample } from '../../src/domain/event-examples.js';
import { SecretBox } from '../../src/domain/sealed-secrets.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { insertEventForSubscription } from '../../src/store/sql/insert-event-for-subscription.js';
import { readSubscriptionStats } from '../../src/store/sql/subscription-stats.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, subscribe, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

interface WindowStats {
  messages: number;
  delivered: number;
  failed: number;
  attempts: number;
  successfulAttempts: number;
  capped: boolean;
}
interface Stats {
  subscriptionUuid: string;
  status: 'ACTIVE' | 'FAILING';
  failingSince: string | null;
  lastHour: WindowStats;
  lastDay: WindowStats;
}
interface AttemptRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}
interface LoggedAttempt {
  attemptId: string;
  started: string;
  outcome: string;
  statusCode: number | null;
  request: AttemptRequest | null;
}
interface ErrorBody {
  errorType: string;
  developerMessage: string;
  violations: { propertyName: string; developerMessage: string }[];
}

const HOUR = 3600_000;
const MASK = '••••••••';
// What the HTTP client adds on its own: not part of the request Herald builds.
const CLIENT_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'traceparent']);

const tagOf = (r: ReceivedRequest) => new URL(r.path, 'http://x').searchParams.get('s');
/** The header names and values a receiver got, as sent (name case kept), less the client's own. */
const sentHeaders = (r: ReceivedRequest): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    if (!CLIENT_HEADERS.has(r.rawHeaders[i]!.toLowerCase())) out[r.rawHeaders[i]!] = r.rawHeaders[i + 1]!;
  }
  return out;
};

for (const backend of testDatabases()) {
  describe(`Console subscriber routes: ${backend.name}`, () => {
    let h: TestHerald;
    let clock: ManualClock;
    let receiver: TestReceiver;
    /** Organization A, live mode, every scope: owns the subscriptions below. */
    let owner: TestCredential;
    /** Organization A, test mode. */
    let testMode: TestCredential;
    /** Organization A, live mode, READ:PRODUCT only. */
    let narrow: TestCredential;
    /** Organization B, every scope. */
    let stranger: TestCredential;
    const subs: Record<string, { uuid: string; signingKey: string }> = {};
    let listenerId: string;
    let testModeSub: string;

    const call = (cred: TestCredential) => asCredential(h, cred);
    const settle = async () => {
      h.worker!.wake();
      await h.worker!.idle();
    };
    const advance = async (ms: number) => {
      clock.advance(ms);
      await settle();
    };
    const deliveredTo = (tag: string) =>
      receiver.requests.filter((r) => tagOf(r) === tag && (r.json as { eventName?: string }).eventName !== 'TestMessage');
    const subscribeTagged = (cred: TestCredential, tag: string, eventNames: string[]) =>
      subscribe(h, cred, { eventNames, destination: `${receiver.url}?s=${tag}`, contactEmail: `${tag}@example.com` });
    const publish = async (eventName: string, payload: unknown) => {
      const res = await h.admin(`/admin/organizations/${owner.organizationUuid}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName, payload }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { messageId: string }).messageId;
    };
    const stats = async (cred: TestCredential, query = '', org = 'self') => {
      const res = await call(cred)('GET', `/organizations/${org}/subscription-stats${query}`);
      return { status: res.status, body: (await res.json()) as { subscriptions: Stats[] } & ErrorBody };
    };
    const statsOf = async (tag: string) => {
      const { status, body } = await stats(owner, `?subscription=${subs[tag]!.uuid}`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.subscriptions.length, 1);
      return body.subscriptions[0]!;
    };
    const messages = async (cred: TestCredential, tag: string, query = '') => {
      const res = await call(cred)('GET', `/organizations/self/subscriptions/${subs[tag]!.uuid}/messages${query}`);
      return { status: res.status, body: (await res.json()) as { messages: { messageId: string; eventName: string; state: string }[]; cursor: number | null } & ErrorBody };
    };
    const attempts = async (cred: TestCredential, tag: string, messageId: string, org = 'self') => {
      const res = await call(cred)('GET', `/organizations/${org}/subscriptions/${subs[tag]!.uuid}/messages/${messageId}/attempts`);
      const text = await res.text();
      return { status: res.status, text, body: JSON.parse(text) as { attempts: LoggedAttempt[] } & ErrorBody };
    };
    const testEvent = async (cred: TestCredential, uuid: string, body?: unknown, org = 'self') => {
      const res = await call(cred)('POST', `/organizations/${org}/subscriptions/${uuid}/test-event`, body);
      return { status: res.status, body: (await res.json()) as { messageId: string; eventName: string } & ErrorBody };
    };

    before(async () => {
      clock = new ManualClock(Date.now());
      receiver = await startReceiver();
      h = await startTestHerald(backend, {
        clock,
        roles: { api: true, worker: true },
        random: () => 0.5, // no jitter
        config: { retrySchedule: [60, 60, 600], pollIntervalMs: 60_000, deliveryTimeoutMs: 2000, leaseSeconds: 5, exhaustedSubscription: 'keep' },
      });
      owner = await createCredential(h, ALL_SCOPES);
      testMode = await createCredential(h, ALL_SCOPES, { organizationUuid: owner.organizationUuid, livemode: false });
      narrow = await createCredential(h, ['READ:PRODUCT'], { organizationUuid: owner.organizationUuid });
      stranger = await createCredential(h, ALL_SCOPES);
      subs.pay = await subscribeTagged(owner, 'pay', ['PaymentCreated']);
      subs.prod = await subscribeTagged(owner, 'prod', ['ProductCreated', 'ProductUpdated']);
      subs.term = await subscribeTagged(owner, 'term', ['paymentTerminals.created']);
      subs.all = await subscribeTagged(owner, 'all', []);
      subs.stat = await subscribeTagged(owner, 'stat', ['InvoiceCreated']);
      testModeSub = (await subscribeTagged(testMode, 'test-mode', ['InvoiceCreated'])).uuid;
      await subscribeTagged(stranger, 'stranger', ['InvoiceCreated']);
      // A listener of organization A (herald listen), for an event nobody publishes here.
      const listener = await call(owner)('POST', '/organizations/self/listeners', { eventNames: ['OrganizationFeatureUpdated'] });
      assert.equal(listener.status, 201);
      listenerId = ((await listener.json()) as { id: string }).id;
      receiver.reset();
    });
    after(async () => {
      await h?.stop();
      await receiver?.close();
    });

    describe('the request of each attempt', () => {
      it('is what the receiver got, byte for byte, on each attempt (Pusher envelope), signatures masked', async () => {
        receiver.respondWith((r) => ({ status: tagOf(r) === 'pay' && deliveredTo('pay').length === 1 ? 503 : 200 }));
        const messageId = await publish('PaymentCreated', { amount: 8300, note: 'ünïcødé "q" \u2028' });
        await settle();
        await advance(60_000); // the retry
        receiver.respondWith(200);
        const got = deliveredTo('pay');
        assert.equal(got.length, 2);

        const log = await attempts(owner, 'pay', messageId);
        assert.equal(log.status, 200, log.text);
        assert.deepEqual(log.body.attempts.map((a) => [a.outcome, a.statusCode]), [['failure', 503], ['success', 200]]);
        for (const [i, a] of log.body.attempts.entries()) {
          const sent = got[i]!;
          const req = a.request!;
          assert.equal(req.method, 'POST');
          assert.equal(req.url, `${receiver.url}?s=pay`);
          assert.equal(req.body, sent.body, 'the body, byte for byte');
          assert.equal((JSON.parse(req.body) as { messageUuid: string }).messageUuid, a.attemptId);
          // Every header Herald set, name as sent, value as sent: only the signatures differ.
          const wire = sentHeaders(sent);
          assert.deepEqual(Object.keys(req.headers).sort(), Object.keys(wire).sort());
          for (const [name, value] of Object.entries(req.headers)) {
            if (name === 'webhook-signature') {
              assert.equal(value, `v1,${MASK}`);
              assert.match(wire[name]!, /^v1,[A-Za-z0-9+/=]{44}$/);
            } else if (name === 'X-iZettle-Signature') {
              assert.equal(value, MASK);
              assert.match(wire[name]!, /^[0-9a-f]{64}$/);
            } else {
              assert.equal(value, wire[name], name);
            }
          }
          assert.equal(req.headers['webhook-timestamp'], String(Math.floor(Date.parse(a.started) / 1000)));
          // Nothing derived from the key: neither the key nor a signature the receiver got.
          assert.ok(!log.text.includes(subs.pay!.signingKey));
          assert.ok(!log.text.includes(wire['X-iZettle-Signature']!));
          assert.ok(!log.text.includes(wire['webhook-signature']!.slice(3)));
        }
        assert.notEqual(log.body.attempts[0]!.request!.body, log.body.attempts[1]!.request!.body, 'a new messageUuid per attempt');
      });

      it('is the Inventory envelope for an Inventory event, its X-Herald-Signature masked but for its timestamp', async () => {
        const sent = await testEvent(owner, subs.term!.uuid, { eventName: 'paymentTerminals.created' });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        await settle();
        const got = deliveredTo('term');
        assert.equal(got.length, 1);
        const log = await attempts(owner, 'term', sent.body.messageId);
        const req = log.body.attempts[0]!.request!;
        assert.equal(req.body, got[0]!.body);
        const wire = sentHeaders(got[0]!);
        assert.deepEqual(Object.keys(req.headers).sort(), Object.keys(wire).sort());
        const t = wire['X-Herald-Signature']!.split(',')[0]!;
        assert.equal(req.headers['X-Herald-Signature'], `${t},v1=${MASK}`);
        assert.equal(t, `t=${req.headers['webhook-timestamp']}`);
        assert.ok(!log.text.includes(subs.term!.signingKey));
      });

      it('is null when nothing was built (the signing key did not open)', async () => {
        const sealed = await subscribeTagged(owner, 'sealed', ['CardPaymentInvalid']);
        subs.sealed = sealed;
        const other = new SecretBox(randomBytes(32)).seal('some-other-key', 'subscription-signing-key');
        await h.db.query('update subscriptions set signing_key = $1 where uuid = $2', [other, sealed.uuid]);
        const messageId = await publish('CardPaymentInvalid', { n: 1 });
        await settle();
        const log = await attempts(owner, 'sealed', messageId);
        assert.equal(log.body.attempts.length, 1);
        assert.equal(log.body.attempts[0]!.request, null);
        assert.equal((await call(owner)('DELETE', `/organizations/self/subscriptions/${sealed.uuid}`)).status, 204);
      });

      it('is shown to no other organization, mode or narrower credential', async () => {
        const messageId = (await messages(owner, 'pay')).body.messages[0]!.messageId;
        assert.equal((await attempts(stranger, 'pay', messageId)).status, 404);
        const forbidden = await attempts(stranger, 'pay', messageId, owner.organizationUuid);
        assert.deepEqual([forbidden.status, forbidden.body.errorType], [403, 'FORBIDDEN']);
        assert.ok(!forbidden.text.includes('request'));
        assert.equal((await attempts(testMode, 'pay', messageId)).body.errorType, 'SUBSCRIPTION_NOT_FOUND');
        const scope = await attempts(narrow, 'pay', messageId);
        assert.deepEqual([scope.status, scope.body.errorType], [403, 'INSUFFICIENT_SCOPE']);
        assert.ok(!scope.text.includes('"request"'));
      });
    });

    describe('POST .../test-event', () => {
      it("sends the event's example payload to that subscription only, as a message like any other", async () => {
        receiver.reset();
        const sent = await testEvent(owner, subs.prod!.uuid);
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.equal(sent.body.eventName, 'ProductCreated', "the subscription's first event by default");
        await settle();
        assert.deepEqual(receiver.requests.map(tagOf), ['prod'], "not the subscription to every event's, nor any other");
        const body = receiver.requests[0]!.json as { eventName: string; messageId: string; payload: string };
        assert.equal(body.eventName, 'ProductCreated');
        assert.equal(body.messageId, sent.body.messageId);
        assert.deepEqual(JSON.parse(body.payload), eventExample('ProductCreated'));
        const listed = await messages(owner, 'prod');
        assert.deepEqual(listed.body.messages.map((m) => [m.messageId, m.state]), [[sent.body.messageId, 'delivered']]);
      });

      it('is retried like any message', async () => {
        receiver.reset();
        receiver.respondWith(500);
        const sent = await testEvent(owner, subs.prod!.uuid, { eventName: 'ProductUpdated' });
        assert.equal(sent.status, 202);
        await settle();
        receiver.respondWith(200);
        await advance(60_000);
        assert.equal(deliveredTo('prod').length, 2);
        const log = await attempts(owner, 'prod', sent.body.messageId);
        assert.deepEqual(log.body.attempts.map((a) => a.statusCode), [500, 200]);
      });

      it('takes any event the credential may see for a subscription to every event', async () => {
        receiver.reset();
        const byDefault = await testEvent(owner, subs.all!.uuid, {});
        assert.deepEqual([byDefault.status, byDefault.body.eventName], [202, 'PurchaseCreated']);
        const named = await testEvent(owner, subs.all!.uuid, { eventName: 'InvoiceCreated' });
        assert.deepEqual([named.status, named.body.eventName], [202, 'InvoiceCreated']);
        await settle();
        assert.deepEqual(receiver.requests.map(tagOf), ['all', 'all'], 'not stat, which also takes InvoiceCreated');
      });

      it('refuses an event that is not the subscription\'s: 400 VALIDATION_ERROR naming eventName', async () => {
        for (const [uuid, eventName] of [
          [subs.prod!.uuid, 'PaymentCreated'],
          [subs.prod!.uuid, 'NoSuchEvent'],
          [subs.all!.uuid, 'NoSuchEvent'],
          [subs.all!.uuid, 'TestMessage'],
          [subs.prod!.uuid, 42],
          [subs.prod!.uuid, 'x'.repeat(101)],
        ] as const) {
          const res = await testEvent(owner, uuid, { eventName });
          assert.equal(res.status, 400, `${String(eventName)}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.errorType, 'VALIDATION_ERROR');
          assert.ok(res.body.violations.some((v) => v.propertyName === 'eventName'), JSON.stringify(res.body.violations));
        }
      });

      it('is refused to another organization, the other mode and a credential without the scopes, and sends nothing', async () => {
        receiver.reset();
        const before = await messages(owner, 'pay');
        const other = await testEvent(stranger, subs.pay!.uuid);
        assert.deepEqual([other.status, other.body.errorType], [404, 'SUBSCRIPTION_NOT_FOUND']);
        const forbidden = await testEvent(stranger, subs.pay!.uuid, undefined, owner.organizationUuid);
        assert.deepEqual([forbidden.status, forbidden.body.errorType], [403, 'FORBIDDEN']);
        const mode = await testEvent(testMode, subs.pay!.uuid);
        assert.deepEqual([mode.status, mode.body.errorType], [404, 'SUBSCRIPTION_NOT_FOUND']);
        const scope = await testEvent(narrow, subs.pay!.uuid);
        assert.deepEqual([scope.status, scope.body.errorType], [403, 'INSUFFICIENT_SCOPE']);
        const unknown = await testEvent(owner, uuidv1());
        assert.deepEqual([unknown.status, unknown.body.errorType], [404, 'SUBSCRIPTION_NOT_FOUND']);
        await settle();
        assert.equal(receiver.requests.length, 0);
        assert.deepEqual((await messages(owner, 'pay')).body.messages, before.body.messages);
        // The narrower credential may test what it may see.
        assert.equal((await testEvent(narrow, subs.prod!.uuid)).status, 202);
        await settle();
      });

      it('makes nothing for a deleted subscription: 404 to its organization, and the insert itself checks', async () => {
        const gone = await subscribeTagged(owner, 'gone', ['PaymentCreated']);
        assert.equal((await call(owner)('DELETE', `/organizations/self/subscriptions/${gone.uuid}`)).status, 204);
        const res = await testEvent(owner, gone.uuid);
        assert.deepEqual([res.status, res.body.errorType], [404, 'SUBSCRIPTION_NOT_FOUND']);
        // Deleted between the route's read and its insert: no event, no delivery (the route answers 409).
        const row = await h.db.query<{ id: number }>('select id from subscriptions where uuid = $1', [gone.uuid]);
        const count = async () => (await h.db.query<{ n: number }>('select count(*)::int as n from events')).rows[0]!.n;
        const events = await count();
        const made = await insertEventForSubscription(h.db, {
          subscriptionId: row.rows[0]!.id,
          eventName: 'PaymentCreated',
          messageId: uuidv1(),
          payload: {},
          createdAt: clock.now(),
          traceContext: null,
        });
        assert.equal(made, 0);
        assert.equal(await count(), events);
      });
    });

    describe('GET .../messages filters', () => {
      const ids: Record<string, string> = {};
      let t0: number;
      before(async () => {
        // Three messages an hour apart: created A, updated B, created C.
        t0 = clock.now().getTime() + HOUR;
        clock.set(t0);
        ids.A = (await testEvent(owner, subs.prod!.uuid, { eventName: 'ProductCreated' })).body.messageId;
        clock.set(t0 + HOUR);
        ids.B = (await testEvent(owner, subs.prod!.uuid, { eventName: 'ProductUpdated' })).body.messageId;
        clock.set(t0 + 2 * HOUR);
        ids.C = (await testEvent(owner, subs.prod!.uuid, { eventName: 'ProductCreated' })).body.messageId;
        await settle();
      });
      const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
      const listed = async (query: string) => {
        const res = await messages(owner, 'prod', query);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const names = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
        return { ids: res.body.messages.map((m) => names[m.messageId] ?? '?'), cursor: res.body.cursor };
      };

      it('eventName, since and until narrow the list, alone and together, with state', async () => {
        assert.deepEqual((await listed(`?since=${iso(t0)}`)).ids, ['C', 'B', 'A']);
        assert.deepEqual((await listed(`?eventName=ProductCreated&since=${iso(t0)}`)).ids, ['C', 'A']);
        assert.deepEqual((await listed(`?since=${iso(t0 + HOUR / 2)}`)).ids, ['C', 'B']);
        assert.deepEqual((await listed(`?since=${iso(t0)}&until=${iso(t0 + (3 * HOUR) / 2)}`)).ids, ['B', 'A']);
        assert.deepEqual((await listed(`?since=${iso(t0 + HOUR)}&until=${iso(t0 + 2 * HOUR)}`)).ids, ['B'], 'since inclusive, until exclusive');
        // To the millisecond (the id bounds that narrow the read are minutes wide; the times decide).
        assert.deepEqual((await listed(`?since=${iso(t0 + 1)}`)).ids, ['C', 'B']);
        assert.deepEqual((await listed(`?since=${iso(t0 - 1)}&until=${iso(t0 + HOUR)}`)).ids, ['A']);
        assert.deepEqual((await listed(`?eventName=ProductUpdated&since=${iso(t0)}&until=${iso(t0 + 3 * HOUR)}&state=delivered`)).ids, ['B']);
        assert.deepEqual((await listed(`?eventName=ProductUpdated&since=${iso(t0)}&state=pending`)).ids, []);
        assert.deepEqual((await listed(`?since=${iso(t0 + 3 * HOUR)}`)).ids, []);
        assert.deepEqual((await listed(`?eventName=NoSuchEvent`)).ids, []);
      });

      it('pages with the before cursor under the same filters', async () => {
        const first = await listed(`?eventName=ProductCreated&since=${iso(t0)}&limit=1`);
        assert.deepEqual(first.ids, ['C']);
        const second = await listed(`?eventName=ProductCreated&since=${iso(t0)}&limit=1&before=${first.cursor}`);
        assert.deepEqual([second.ids, second.cursor], [['A'], null]);
        const all = await listed(`?since=${iso(t0)}&limit=2`);
        assert.deepEqual(all.ids, ['C', 'B']);
        assert.deepEqual((await listed(`?since=${iso(t0)}&limit=2&before=${all.cursor}`)).ids, ['A']);
      });

      it('refuses a bad filter with 400 VALIDATION_ERROR', async () => {
        for (const q of [`?eventName=${'x'.repeat(101)}`, '?since=yesterday', '?until=2026-13-01T00:00:00Z', '?since=2016-12-31T23:59:60Z']) {
          const res = await messages(owner, 'prod', q);
          assert.deepEqual([res.status, res.body.errorType], [400, 'VALIDATION_ERROR'], q);
        }
      });

      it('the admin twin takes the same filters', async () => {
        const res = await h.admin(
          `/admin/organizations/${owner.organizationUuid}/subscriptions/${subs.prod!.uuid}/messages?eventName=ProductUpdated&since=${iso(t0)}&until=${iso(t0 + 3 * HOUR)}`,
        );
        const body = (await res.json()) as { messages: { messageId: string }[] };
        assert.deepEqual(body.messages.map((m) => m.messageId), [ids.B]);
      });

      it('shows nothing to another organization, the other mode or a credential without the scopes', async () => {
        const q = `?eventName=PaymentCreated&since=${iso(0)}`;
        const other = await messages(stranger, 'pay', q);
        assert.deepEqual([other.status, other.body.errorType, other.body.messages], [404, 'SUBSCRIPTION_NOT_FOUND', undefined]);
        const res = await call(stranger)('GET', `/organizations/${owner.organizationUuid}/subscriptions/${subs.pay!.uuid}/messages${q}`);
        assert.deepEqual([res.status, ((await res.json()) as ErrorBody).errorType], [403, 'FORBIDDEN']);
        const mode = await messages(testMode, 'pay', q);
        assert.deepEqual([mode.status, mode.body.errorType], [404, 'SUBSCRIPTION_NOT_FOUND']);
        const scope = await messages(narrow, 'pay', q);
        assert.deepEqual([scope.status, scope.body.errorType, scope.body.messages], [403, 'INSUFFICIENT_SCOPE', undefined]);
      });
    });

    describe('GET /organizations/{organizationUuid}/subscription-stats', () => {
      it('counts the last hour and day: messages, delivered, failed, attempts, and the status', async () => {
        // A day apart from everything before, so only what follows counts.
        clock.advance(48 * HOUR);
        const quiet = await statsOf('stat');
        assert.deepEqual(
          [quiet.status, quiet.failingSince, quiet.lastHour, quiet.lastDay],
          ['ACTIVE', null, ...Array(2).fill({ messages: 0, delivered: 0, failed: 0, attempts: 0, successfulAttempts: 0, capped: false })],
        );
        receiver.respondWith(200);
        await publish('InvoiceCreated', { n: 1 });
        await publish('InvoiceCreated', { n: 2 });
        await settle();
        await advance(2 * HOUR);
        // Failing from here: a message, then its retries.
        receiver.respondWith((r) => ({ status: tagOf(r) === 'stat' ? 500 : 200 }));
        const failingFrom = clock.now().toISOString();
        await publish('InvoiceCreated', { n: 3 });
        await settle();
        let s = await statsOf('stat');
        assert.equal(s.status, 'FAILING');
        assert.equal(s.failingSince, failingFrom);
        assert.deepEqual(s.lastHour, { messages: 1, delivered: 0, failed: 0, attempts: 1, successfulAttempts: 0, capped: false });
        assert.deepEqual(s.lastDay, { messages: 3, delivered: 2, failed: 0, attempts: 3, successfulAttempts: 2, capped: false });
        // The schedule runs out (60, 60, 600 s): the message is failed, 4 attempts made.
        await advance(60_000);
        await advance(60_000);
        await advance(600_000);
        s = await statsOf('stat');
        assert.deepEqual(s.lastHour, { messages: 1, delivered: 0, failed: 1, attempts: 4, successfulAttempts: 0, capped: false });
        assert.deepEqual(s.lastDay, { messages: 3, delivered: 2, failed: 1, attempts: 6, successfulAttempts: 2, capped: false });
        // An hour on, the last hour is empty; a day on, so is the day.
        clock.advance(HOUR + 1000);
        s = await statsOf('stat');
        assert.deepEqual(s.lastHour, { messages: 0, delivered: 0, failed: 0, attempts: 0, successfulAttempts: 0, capped: false });
        assert.deepEqual(s.lastDay.messages, 3);
        clock.advance(24 * HOUR);
        s = await statsOf('stat');
        assert.deepEqual(s.lastDay, { messages: 0, delivered: 0, failed: 0, attempts: 0, successfulAttempts: 0, capped: false });
        receiver.respondWith(200);
      });

      it("counts the attempts of the day on older messages too (a failing subscription's retries)", async () => {
        receiver.respondWith((r) => ({ status: tagOf(r) === 'stat' ? 500 : 200 }));
        clock.advance(48 * HOUR);
        await publish('InvoiceCreated', { n: 4 });
        await settle(); // attempt 1
        await advance(60_000); // attempt 2
        clock.advance(24 * HOUR);
        receiver.respondWith(200);
        await advance(60_000); // attempt 3 delivers, a day and two minutes after the message (and attempt 2 a minute before the day)
        const s = await statsOf('stat');
        assert.deepEqual(s.lastDay, { messages: 0, delivered: 0, failed: 0, attempts: 1, successfulAttempts: 1, capped: false });
        assert.deepEqual(s.status, 'ACTIVE');
      });

      it('reads at most the cap of messages per subscription, and says which window it cut short', async () => {
        clock.advance(48 * HOUR);
        for (let i = 0; i < 3; i++) await publish('InvoiceCreated', { n: i });
        clock.advance(2 * HOUR);
        for (let i = 0; i < 2; i++) await publish('InvoiceCreated', { n: i });
        await settle();
        const id = (await h.db.query<{ id: number }>('select id from subscriptions where uuid = $1', [subs.stat!.uuid])).rows[0]!.id;
        const now = clock.now().getTime();
        const read = (cap: number) =>
          readSubscriptionStats(h.db, { subscriptionIds: [id], hourStart: new Date(now - HOUR), dayStart: new Date(now - 24 * HOUR), fromDeliveryId: 0, fromAttemptId: 0, cap });
        const [whole] = await read(10);
        assert.deepEqual([whole!.hour_messages, whole!.day_messages, whole!.hour_capped, whole!.day_capped], [2, 5, false, false]);
        const [cut] = await read(4);
        assert.deepEqual([cut!.hour_messages, cut!.day_messages, cut!.hour_capped, cut!.day_capped], [2, 4, false, true]);
        const [cutHour] = await read(2);
        assert.deepEqual([cutHour!.hour_messages, cutHour!.day_messages, cutHour!.hour_capped, cutHour!.day_capped], [2, 2, true, true]);
      });

      it('lists what the credential may see: its mode, its scopes, no listener, no other organization', async () => {
        const all = await stats(owner);
        assert.equal(all.status, 200);
        assert.deepEqual(
          all.body.subscriptions.map((s) => s.subscriptionUuid),
          ['pay', 'prod', 'term', 'all', 'stat'].map((t) => subs[t]!.uuid),
          'in the order GET .../subscriptions lists them; no listener, no deleted, no test-mode one',
        );
        assert.ok(!all.body.subscriptions.some((s) => s.subscriptionUuid === listenerId));
        const byUuid = await stats(owner, '', owner.organizationUuid);
        assert.deepEqual(byUuid.body, all.body);

        assert.deepEqual((await stats(testMode)).body.subscriptions.map((s) => s.subscriptionUuid), [testModeSub]);
        assert.deepEqual((await stats(narrow)).body.subscriptions.map((s) => s.subscriptionUuid), [subs.prod!.uuid]);
        const theirs = await stats(stranger);
        assert.equal(theirs.body.subscriptions.length, 1);
        assert.ok(!JSON.stringify(theirs.body).includes(subs.pay!.uuid));
      });

      it('?subscription= answers one, or 404, 403 and 400 as the other subscriber routes do', async () => {
        const one = await stats(owner, `?subscription=${subs.prod!.uuid.toUpperCase()}`);
        assert.deepEqual(one.body.subscriptions.map((s) => s.subscriptionUuid), [subs.prod!.uuid]);
        for (const [cred, uuid, status, errorType] of [
          [owner, uuidv1(), 404, 'SUBSCRIPTION_NOT_FOUND'],
          [owner, listenerId, 404, 'SUBSCRIPTION_NOT_FOUND'],
          [owner, testModeSub, 404, 'SUBSCRIPTION_NOT_FOUND'],
          [testMode, subs.pay!.uuid, 404, 'SUBSCRIPTION_NOT_FOUND'],
          [stranger, subs.pay!.uuid, 404, 'SUBSCRIPTION_NOT_FOUND'],
          [narrow, subs.pay!.uuid, 403, 'INSUFFICIENT_SCOPE'],
          [narrow, subs.all!.uuid, 403, 'INSUFFICIENT_SCOPE'],
          [owner, 'not-a-uuid', 400, 'VALIDATION_ERROR'],
        ] as const) {
          const res = await stats(cred, `?subscription=${uuid}`);
          assert.deepEqual([res.status, res.body.errorType, res.body.subscriptions], [status, errorType, undefined], uuid);
        }
        const forbidden = await stats(stranger, '', owner.organizationUuid);
        assert.deepEqual([forbidden.status, forbidden.body.errorType, forbidden.body.subscriptions], [403, 'FORBIDDEN', undefined]);
        const noCredential = await h.request(`/organizations/${owner.organizationUuid}/subscription-stats`);
        assert.equal(noCredential.status, 401);
      });
    });
  });
}
