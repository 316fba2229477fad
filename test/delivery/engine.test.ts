// The delivery engine end to end: real server + worker, a real receiver whose answers
// switch mid-test, a real SMTP sink, and a manual clock to walk retry schedules.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { v1 as uuidv1, version as uuidVersion } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { standardWebhooksSecret } from '../../src/delivery/sign.js';
import { SecretBox } from '../../src/domain/sealed-secrets.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { INVENTORY_EXAMPLES, PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases, type TestDatabase } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { freePort } from '../helpers/process.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

interface Env {
  h: TestHerald;
  clock: ManualClock;
  receiver: TestReceiver;
  smtp: SmtpSink;
  cred: TestCredential;
  /** Creates a subscription whose destination is the receiver (tagged ?s=<tag>). */
  subscribe(tag: string, eventNames: string[], destination?: string): Promise<{ uuid: string; signingKey: string }>;
  publish(eventName: string, payload: unknown, messageId?: string): Promise<Response>;
  /** Lets the worker send everything due now and record it. */
  settle(): Promise<void>;
  /** Moves the clock and lets the worker catch up. */
  advance(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

async function setup(backend: TestDatabase, config: Partial<Config> = {}): Promise<Env> {
  // Starts at the real time: the official Standard Webhooks verifier checks timestamps against it.
  const clock = new ManualClock(Date.now());
  const receiver = await startReceiver();
  const smtp = await startSmtpSink();
  const h = await startTestHerald(backend, {
    clock,
    roles: { api: true, worker: true },
    random: () => 0.5, // no jitter: retry times are exact
    config: { retrySchedule: [60, 60, 600], smtpUrl: smtp.url, pollIntervalMs: 60_000, deliveryTimeoutMs: 500, leaseSeconds: 5, ...config },
  });
  const cred = await createCredential(h, ALL_SCOPES);
  const call = asCredential(h, cred);
  const settle = async () => {
    h.worker!.wake();
    await h.worker!.idle();
    await h.mailSender?.flush();
  };
  return {
    h,
    clock,
    receiver,
    smtp,
    cred,
    async subscribe(tag, eventNames, destination) {
      const res = await call('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames,
        destination: `${receiver.url}?s=${tag}`,
        contactEmail: `${tag}@example.com`,
      });
      assert.equal(res.status, 200, await res.clone().text());
      const sub = (await res.json()) as { uuid: string; signingKey: string };
      if (destination) {
        const put = await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { destination });
        assert.equal(put.status, 200);
      }
      return sub;
    },
    publish: (eventName, payload, messageId) =>
      h.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName, payload, ...(messageId ? { messageId } : {}) }),
      }),
    settle,
    async advance(seconds) {
      clock.advance(seconds * 1000);
      await settle();
    },
    async stop() {
      await h.stop();
      await receiver.close();
      await smtp.close();
    },
  };
}

const tagOf = (r: ReceivedRequest) => new URL(r.path, 'http://x').searchParams.get('s');
const events = (receiver: TestReceiver) => receiver.requests.filter((r) => (r.json as { eventName?: string }).eventName !== 'TestMessage');

for (const backend of testDatabases()) {
  describe(`delivery engine: ${backend.name}`, () => {
    describe('fan-out, envelopes and signatures', () => {
      let env: Env;
      before(async () => {
        env = await setup(backend);
      });
      after(() => env.stop());

      it('delivers a published event to every matching subscription, signed twice over', async () => {
        const a = await env.subscribe('a', ['ProductCreated']);
        const all = await env.subscribe('all', []);
        await env.subscribe('purchases', ['PurchaseCreated']);
        env.receiver.reset();
        const payload = PUSHER_EXAMPLES.ProductCreated!.payload;
        const res = await env.publish('ProductCreated', payload);
        assert.equal(res.status, 202);
        const { messageId, deliveries } = (await res.json()) as { messageId: string; deliveries: number };
        assert.equal(deliveries, 2);
        await env.settle();
        const got = events(env.receiver);
        assert.deepEqual(got.map(tagOf).sort(), ['a', 'all']);
        for (const req of got) {
          const key = tagOf(req) === 'a' ? a.signingKey : all.signingKey;
          const body = req.json as Record<string, string>;
          assert.deepEqual(Object.keys(body), ['organizationUuid', 'messageUuid', 'eventName', 'messageId', 'payload', 'timestamp']);
          assert.equal(body.organizationUuid, env.cred.organizationUuid);
          assert.equal(body.eventName, 'ProductCreated');
          assert.equal(body.messageId, messageId);
          assert.equal(uuidVersion(body.messageUuid!), 1);
          assert.equal(typeof body.payload, 'string');
          assert.deepEqual(JSON.parse(body.payload!), payload);
          assert.equal(body.timestamp, env.clock.now().toISOString());
          // X-iZettle-Signature, by an independent HMAC over the documented string.
          assert.equal(req.headers['x-izettle-signature'], createHmac('sha256', key).update(`${body.timestamp}.${body.payload}`).digest('hex'));
          // Standard Webhooks, by the official library and by hand.
          const headers = req.headers as Record<string, string>;
          assert.doesNotThrow(() => new Webhook(standardWebhooksSecret(key)).verify(req.body, headers));
          const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${req.body}`;
          assert.equal(headers['webhook-signature'], `v1,${createHmac('sha256', Buffer.from(key, 'utf8')).update(signed).digest('base64')}`);
          assert.equal(headers['webhook-id'], messageId);
          assert.equal(headers['user-agent'], 'PusherApplication (WebHookPushClient)');
        }
      });

      it('a subscription created after an event does not receive it', async () => {
        env.receiver.reset();
        const res = await env.publish('InvoiceCreated', { invoiceUuid: 'i1' });
        assert.equal(((await res.json()) as { deliveries: number }).deliveries, 1); // 'all' only
        await env.subscribe('late', ['InvoiceCreated']);
        await env.settle();
        assert.deepEqual(events(env.receiver).map(tagOf), ['all']);
      });

      it('test mode and live mode never mix', async () => {
        const testKey = await createCredential(env.h, ALL_SCOPES, { organizationUuid: env.cred.organizationUuid, livemode: false });
        const res = await asCredential(env.h, testKey)('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['PaymentCanceled'],
          destination: `${env.receiver.url}?s=test-mode`,
          contactEmail: 't@example.com',
        });
        assert.equal(res.status, 200);
        env.receiver.reset();
        const publish = (livemode: boolean) =>
          env.h.admin(`/admin/organizations/${env.cred.organizationUuid}/events`, {
            method: 'POST',
            body: JSON.stringify({ eventName: 'PaymentCanceled', payload: { livemode }, livemode }),
          });
        assert.equal(((await (await publish(false)).json()) as { deliveries: number }).deliveries, 1);
        await env.settle();
        assert.deepEqual(events(env.receiver).map(tagOf), ['test-mode']);
        env.receiver.reset();
        await publish(true);
        await env.settle();
        assert.deepEqual(events(env.receiver).map(tagOf), ['all']);
      });

      it('the same messageId twice is one message, whose messageId is a v5 UUID named by the producer id', async () => {
        env.receiver.reset();
        const id = uuidv1();
        const first = await env.publish('PaymentCreated', { amount: 1 }, id);
        const second = await env.publish('PaymentCreated', { amount: 2 }, id);
        assert.deepEqual([first.status, second.status], [202, 202]);
        const { messageId } = (await first.json()) as { messageId: string };
        assert.equal(uuidVersion(messageId), 5);
        assert.deepEqual(await second.json(), { messageId, duplicate: true, deliveries: 0 });
        await env.settle();
        assert.equal(events(env.receiver).length, 1);
        const body = events(env.receiver)[0]!.json as { payload: string; messageId: string };
        assert.equal(JSON.parse(body.payload).amount, 1);
        assert.equal(body.messageId, messageId);
      });

      it('a batch publish commits its events together, in order, duplicates flagged; one bad event stores none', async () => {
        await env.subscribe('batch', ['PaymentCreated']);
        const mine = () => events(env.receiver).filter((r) => tagOf(r) === 'batch');
        env.receiver.reset();
        const batch = (events: unknown[]) =>
          env.h.admin(`/admin/organizations/${env.cred.organizationUuid}/events/batch`, { method: 'POST', body: JSON.stringify({ events }) });
        const known = uuidv1();
        const single = (await (await env.publish('PaymentCreated', { amount: 10 }, known)).json()) as { messageId: string };
        await env.settle();
        env.receiver.reset();

        const { organizationUuid: _drop, ...withoutOrg } = PUSHER_EXAMPLES.ProductCreated!.payload;
        const refused = await batch([
          { eventName: 'PaymentCreated', payload: { amount: 1 } },
          { eventName: 'ProductCreated', payload: { ...withoutOrg, vatPercentage: 'high' } },
        ]);
        assert.equal(refused.status, 400);
        const why = (await refused.json()) as { errorType: string; violations: { propertyName: string }[] };
        assert.equal(why.errorType, 'INVALID_PAYLOAD');
        assert.ok(why.violations.every((v) => v.propertyName.startsWith('events[1].payload')), JSON.stringify(why.violations));
        await env.settle();
        assert.equal(mine().length, 0, 'nothing of a refused batch is stored');

        const res = await batch([
          { eventName: 'PaymentCreated', payload: { amount: 1 }, messageId: 'batch-a' },
          { eventName: 'PaymentCreated', payload: { amount: 2 }, messageId: known },
          { eventName: 'PaymentCreated', payload: { amount: 3 } },
        ]);
        assert.equal(res.status, 202);
        const { messages } = (await res.json()) as { messages: { messageId: string; duplicate: boolean }[] };
        assert.deepEqual(messages.map((m) => m.duplicate), [false, true, false]);
        assert.equal(messages[1]!.messageId, single.messageId);
        await env.settle();
        const amounts = mine().map((r) => JSON.parse((r.json as { payload: string }).payload).amount as number);
        assert.deepEqual(amounts.sort(), [1, 3]);
        assert.equal((await batch([])).status, 400, 'an empty batch');
        // Two batches naming the same new ids in opposite orders, at once: no deadlock (a 500).
        for (let round = 0; round < 10; round++) {
          const ids = Array.from({ length: 20 }, (_, k) => ({ eventName: 'PaymentCreated', payload: { amount: k }, messageId: `race-${round}-${k}` }));
          const answers = await Promise.all([batch(ids), batch([...ids].reverse())]);
          assert.deepEqual(answers.map((r) => r.status), [202, 202]);
        }
      });

      it("400 for a payload that breaks the catalog's schema, naming the field", async () => {
        const { organizationUuid: _drop, ...withoutOrg } = PUSHER_EXAMPLES.ProductCreated!.payload;
        const res = await env.publish('ProductCreated', { ...withoutOrg, vatPercentage: 'high' });
        assert.equal(res.status, 400);
        const body = (await res.json()) as { errorType: string; violations: { propertyName: string }[] };
        assert.equal(body.errorType, 'INVALID_PAYLOAD');
        const names = body.violations.map((v) => v.propertyName);
        assert.ok(names.some((n) => n.includes('organizationUuid')), JSON.stringify(names));
        assert.ok(names.some((n) => n.includes('vatPercentage')), JSON.stringify(names));
      });

      it('400 for an unknown event or a payload that is not an object; 404 for an unknown organization', async () => {
        const unknown = await env.publish('NoSuchEvent', {});
        assert.equal(unknown.status, 400);
        assert.equal(((await unknown.json()) as { errorType: string }).errorType, 'UNKNOWN_EVENT');
        const bad = await env.publish('PaymentCreated', 'not an object');
        assert.equal(bad.status, 400);
        const noOrg = await env.h.admin(`/admin/organizations/${uuidv1()}/events`, {
          method: 'POST',
          body: JSON.stringify({ eventName: 'PaymentCreated', payload: {} }),
        });
        assert.equal(noOrg.status, 404);
      });

      it('Inventory envelope: id stable for every subscriber and retry, attemptId new per attempt', async () => {
        await env.subscribe('t1', ['paymentTerminals.created']);
        await env.subscribe('t2', ['paymentTerminals.created']);
        env.receiver.reset();
        let failedOnce = false;
        env.receiver.respondWith((req) => {
          if (tagOf(req) === 't1' && !failedOnce) {
            failedOnce = true;
            return { status: 503 };
          }
          return { status: 200 };
        });
        const data = INVENTORY_EXAMPLES['paymentTerminals.created']!.data;
        const res = await env.publish('paymentTerminals.created', data);
        const { messageId } = (await res.json()) as { messageId: string };
        await env.settle();
        await env.advance(61);
        const got = events(env.receiver).filter((r) => ['t1', 't2'].includes(tagOf(r)!));
        assert.equal(got.length, 3); // t1 twice (fail, retry), t2 once
        const bodies = got.map((r) => r.json as { id: string; attemptId: string; livemode: boolean; created: number; event: string; data: unknown });
        for (const b of bodies) {
          assert.deepEqual(Object.keys(b), ['id', 'attemptId', 'livemode', 'created', 'event', 'data']);
          assert.equal(b.id, messageId);
          assert.equal(b.event, 'paymentTerminals.created');
          assert.equal(b.livemode, true);
          assert.ok(Number.isInteger(b.created));
          assert.deepEqual(b.data, data);
        }
        assert.equal(new Set(bodies.map((b) => b.attemptId)).size, 3);
        assert.match(messageId, /^[0-9a-f]{24}$/, 'an Inventory event id is an ObjectId');
        assert.equal(got[0]!.headers['webhook-id'], messageId);
        env.receiver.respondWith(200);
      });

      it('exports delivery metrics', async () => {
        const text = await (await env.h.request('/metrics')).text();
        assert.match(text, /herald_delivery_attempts_total\{outcome="delivered"\} [1-9]/);
        assert.match(text, /herald_delivery_attempts_total\{outcome="retry"\} [1-9]/);
        assert.match(text, /herald_delivery_attempt_duration_seconds_count [1-9]/);
        assert.match(text, /herald_deliveries_pending 0/);
        assert.match(text, /herald_deliveries_oldest_pending_age_seconds 0/);
        assert.match(text, /herald_subscriptions\{status="ACTIVE"\} [1-9]/);
      });
    });

    describe('failing and recovering', () => {
      let env: Env;
      before(async () => {
        env = await setup(backend);
      });
      after(() => env.stop());

      it('a receiver failing then recovering gets every message; FAILING then ACTIVE; one warning mail', async () => {
        const sub = await env.subscribe('r', ['PaymentCreated']);
        env.receiver.reset();
        env.receiver.respondWith(500);
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push(((await (await env.publish('PaymentCreated', { n: i })).json()) as { messageId: string }).messageId);
        await env.settle();
        assert.equal(env.receiver.requests.length, 3);
        const status = async () =>
          ((await (await asCredential(env.h, env.cred)('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; status: string }[]).find(
            (s) => s.uuid === sub.uuid,
          )!.status;
        assert.equal(await status(), 'FAILING');
        await env.smtp.waitFor(1);
        assert.equal(env.smtp.messages.length, 1);
        assert.deepEqual(env.smtp.messages[0]!.to, ['r@example.com']);
        assert.match(env.smtp.messages[0]!.subject, new RegExp(`${sub.uuid} is failing`));
        assert.ok(!env.smtp.messages[0]!.text.includes(sub.signingKey), 'no signing key in mails');

        await env.advance(61); // retry 1: still failing, no second warning
        assert.equal(env.receiver.requests.length, 6);
        assert.equal(env.smtp.messages.length, 1);

        env.receiver.respondWith(200);
        await env.advance(61); // retry 2: recovers
        const received = new Set(env.receiver.requests.filter((r) => r.headers['webhook-id']).map((r) => r.headers['webhook-id']));
        assert.deepEqual([...received].sort(), [...ids].sort());
        assert.equal(await status(), 'ACTIVE');
        assert.equal(env.smtp.messages.length, 1);

        // The attempt log: three attempts of the first message, 500, 500, 200.
        const log = await asCredential(env.h, env.cred)('GET', `/organizations/self/subscriptions/${sub.uuid}/messages/${ids[0]}/attempts`);
        assert.equal(log.status, 200);
        const { message, attempts } = (await log.json()) as {
          message: { state: string };
          attempts: { statusCode: number; outcome: string; errorClass: string | null; latencyMs: number; responseExcerpt: string }[];
        };
        assert.equal(message.state, 'delivered');
        assert.deepEqual(attempts.map((a) => [a.statusCode, a.outcome, a.errorClass]), [
          [500, 'failure', 'http_status'],
          [500, 'failure', 'http_status'],
          [200, 'success', null],
        ]);
        assert.ok(attempts.every((a) => a.latencyMs >= 0 && typeof a.responseExcerpt === 'string'));
      });

      it('a second failing period gets its own warning', async () => {
        env.smtp.reset();
        env.receiver.respondWith(500);
        await env.publish('PaymentCreated', { n: 99 });
        await env.settle();
        await env.smtp.waitFor(1);
        env.receiver.respondWith(200);
        await env.advance(61);
      });
    });

    describe('giving up', () => {
      it('an exhausted schedule deletes the subscription, mails its contact, and keeps its messages listed', async () => {
        const env = await setup(backend, { retrySchedule: [60, 60] });
        try {
          const sub = await env.subscribe('x', ['PaymentCreated']);
          env.receiver.respondWith(503);
          const { messageId } = (await (await env.publish('PaymentCreated', { n: 1 })).json()) as { messageId: string };
          await env.settle();
          await env.advance(61);
          await env.advance(61); // third failure: schedule exhausted
          assert.equal(env.receiver.requests.filter((r) => r.headers['webhook-id'] === messageId).length, 3);
          const list = (await (await asCredential(env.h, env.cred)('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
          assert.ok(!list.some((s) => s.uuid === sub.uuid), 'the exhausted subscription is deleted');
          await env.smtp.waitFor(2);
          assert.deepEqual(env.smtp.messages.map((m) => m.subject.includes('was deleted')), [false, true]);
          const admin = await env.h.admin(`/admin/organizations/${env.cred.organizationUuid}/subscriptions/${sub.uuid}/messages?state=undelivered`);
          assert.equal(admin.status, 200);
          const { messages } = (await admin.json()) as { messages: { messageId: string; state: string; attempts: number }[] };
          assert.deepEqual(messages.map((m) => [m.messageId, m.state, m.attempts]), [[messageId, 'failed', 3]]);
          await env.advance(3600);
          assert.equal(env.receiver.requests.filter((r) => r.headers['webhook-id'] === messageId).length, 3, 'no attempt after giving up');
        } finally {
          await env.stop();
        }
      });

      it('HERALD_EXHAUSTED_SUBSCRIPTION=keep keeps it FAILING; resend all delivers its undelivered messages', async () => {
        const env = await setup(backend, { retrySchedule: [60], exhaustedSubscription: 'keep' });
        try {
          const sub = await env.subscribe('k', ['PaymentCreated']);
          env.receiver.reset();
          env.receiver.respondWith(500);
          await env.publish('PaymentCreated', { n: 1 });
          await env.publish('PaymentCreated', { n: 2 });
          await env.settle();
          await env.advance(61);
          assert.equal(env.receiver.requests.length, 4);
          const call = asCredential(env.h, env.cred);
          const list = (await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; status: string }[];
          assert.equal(list.find((s) => s.uuid === sub.uuid)?.status, 'FAILING');
          // Two deliveries exhausted their schedule: one warning and ONE final mail, not one per delivery.
          await env.smtp.waitFor(2);
          await new Promise((r) => setTimeout(r, 100));
          assert.deepEqual(env.smtp.messages.map((m) => (/exhausted/.test(m.subject) ? 'exhausted' : 'failing')), ['failing', 'exhausted']);
          const undelivered = (await (await call('GET', `/organizations/self/subscriptions/${sub.uuid}/messages?state=undelivered`)).json()) as {
            messages: unknown[];
          };
          assert.equal(undelivered.messages.length, 2);

          env.receiver.respondWith(200);
          const resend = await call('POST', `/organizations/self/subscriptions/${sub.uuid}/resend`);
          assert.equal(resend.status, 202);
          assert.deepEqual(await resend.json(), { resent: 2 });
          await env.settle();
          assert.equal(env.receiver.requests.length, 6);
          const after = (await (await call('GET', `/organizations/self/subscriptions/${sub.uuid}/messages?state=undelivered`)).json()) as {
            messages: unknown[];
          };
          assert.equal(after.messages.length, 0);
          const again = (await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; status: string }[];
          assert.equal(again.find((s) => s.uuid === sub.uuid)?.status, 'ACTIVE');
        } finally {
          await env.stop();
        }
      });

      it('410 Gone stops delivery to the subscription at once', async () => {
        const env = await setup(backend);
        try {
          const sub = await env.subscribe('g', ['PaymentCreated']);
          env.receiver.reset();
          env.receiver.respondWith(410);
          await env.publish('PaymentCreated', { n: 1 });
          await env.settle();
          await env.advance(3600);
          assert.equal(env.receiver.requests.length, 1);
          const list = (await (await asCredential(env.h, env.cred)('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
          assert.ok(!list.some((s) => s.uuid === sub.uuid));
          await env.smtp.waitFor(2);
          assert.ok(env.smtp.messages.some((m) => /410 Gone/.test(m.subject)));
        } finally {
          await env.stop();
        }
      });
    });

    describe('hostile answers and broken dependencies', () => {
      let env: Env;
      before(async () => {
        env = await setup(backend);
      });
      after(() => env.stop());

      it('a signing key that does not open is a failure on the schedule, in the attempt log; nothing is sent', async () => {
        const sub = await env.subscribe('sealed', ['InvoiceCreated']);
        // Sealed under another encryption key (one this process was not given).
        const other = new SecretBox(randomBytes(32)).seal('some-other-key', 'subscription-signing-key');
        await env.h.db.query(`update subscriptions set signing_key = $1 where uuid = $2`, [other, sub.uuid]);
        env.receiver.reset();
        const { messageId } = (await (await env.publish('InvoiceCreated', { n: 1 })).json()) as { messageId: string };
        await env.settle();
        assert.equal(events(env.receiver).filter((r) => tagOf(r) === 'sealed').length, 0, 'nothing sent unsigned');
        const log = (await (await asCredential(env.h, env.cred)('GET', `/organizations/self/subscriptions/${sub.uuid}/messages/${messageId}/attempts`)).json()) as {
          message: { state: string; nextAttempt: string | null };
          attempts: { outcome: string; errorClass: string; errorMessage: string }[];
        };
        assert.equal(log.message.state, 'pending');
        assert.equal(Date.parse(log.message.nextAttempt!), env.clock.now().getTime() + 60_000, 'retried on the schedule, not every lease');
        assert.equal(log.attempts.length, 1);
        assert.equal(log.attempts[0]!.errorClass, 'other');
        assert.match(log.attempts[0]!.errorMessage, /^not sent: .*HERALD_PREVIOUS_ENCRYPTION_KEYS/);
        assert.equal((await asCredential(env.h, env.cred)('DELETE', `/organizations/self/subscriptions/${sub.uuid}`)).status, 204);
      });

      it('an answer holding NUL bytes is recorded (as U+FFFD) and does not hold back other deliveries', async () => {
        const sub = await env.subscribe('nul', ['PaymentCreated']);
        await env.subscribe('fine', ['PaymentCreated']);
        env.receiver.reset();
        env.receiver.respondWith((req) => ({ status: 200, body: tagOf(req) === 'nul' ? 'ok\u0000\u0000bytes' : 'ok' }));
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(((await (await env.publish('PaymentCreated', { n: i })).json()) as { messageId: string }).messageId);
        await env.settle();
        const log = (await (await asCredential(env.h, env.cred)('GET', `/organizations/self/subscriptions/${sub.uuid}/messages/${ids[0]}/attempts`)).json()) as {
          message: { state: string };
          attempts: { responseExcerpt: string }[];
        };
        assert.equal(log.message.state, 'delivered');
        assert.equal(log.attempts[0]!.responseExcerpt, 'ok\ufffd\ufffdbytes');
        const pending = await env.h.db.query<{ n: number }>(`select count(*) as n from deliveries where state = 'pending'`);
        assert.equal(pending.rows[0]!.n, 0, 'every delivery of the batch was recorded');
        env.receiver.respondWith(200);
      });

      it('the attempt log answers 404, not 500, for a subscription uuid that is not a uuid', async () => {
        const res = await asCredential(env.h, env.cred)('GET', `/organizations/self/subscriptions/${'-'.repeat(36)}/messages`);
        assert.equal(res.status, 404);
      });

      it('deliveries left pending for a deleted subscription are never sent, and are cancelled', async () => {
        const sub = await env.subscribe('orphan', ['PaymentCreated']);
        env.receiver.reset();
        // The race: an event fanned out to the subscription as it was being deleted.
        await env.h.db.transaction(async (tx) => {
          await tx.query(`update subscriptions set deleted_at = $2 where uuid = $1`, [sub.uuid, env.clock.now()]);
        });
        await env.publish('PaymentCreated', { n: 1 }); // fans out to live subscriptions only
        const ev = await env.h.db.query<{ id: number }>(`select id from events order by id desc limit 1`);
        await env.h.db.query(
          `insert into deliveries (event_id, subscription_id, state, next_attempt_at, created_at)
           select $1, id, 'pending', $2, $2 from subscriptions where uuid = $3`,
          [ev.rows[0]!.id, env.clock.now(), sub.uuid],
        );
        await env.settle();
        assert.ok(!env.receiver.requests.some((r) => tagOf(r) === 'orphan'), 'sent to a deleted subscription');
        const rows = await env.h.db.query<{ state: string }>(
          `select d.state from deliveries d join subscriptions s on s.id = d.subscription_id where s.uuid = $1`,
          [sub.uuid],
        );
        assert.deepEqual(rows.rows.map((r) => r.state), ['cancelled']);
      });
    });

    describe('learned per-destination limits', () => {
      let env: Env;
      before(async () => {
        // A timeout longer than the held answers below take.
        env = await setup(backend, { workerConcurrency: 64, perDestinationConcurrency: 32, deliveryTimeoutMs: 30_000, leaseSeconds: 60 });
      });
      after(() => env.stop());

      /** The attempt log's view of a subscription's destination. */
      const destinationOf = async (uuid: string) => {
        const res = await asCredential(env.h, env.cred)('GET', `/organizations/self/subscriptions/${uuid}/messages?limit=1`);
        assert.equal(res.status, 200);
        return ((await res.json()) as { destination: Record<string, unknown> }).destination;
      };

      it('a destination answering 2xx fast gets more than 8 requests at once, never more than the ceiling', async () => {
        const sub = await env.subscribe('grow', ['PaymentCreated']);
        assert.deepEqual(await destinationOf(sub.uuid), {
          origin: new URL(env.receiver.url).origin,
          concurrencyLimit: 8,
          ceiling: 32,
          inFlight: 0,
          state: 'growing',
          pausedUntil: null,
        });
        let open = 0;
        let most = 0;
        // The first answers wait until all 300 are published: a backlog, as a busy producer makes.
        let publishedAll!: () => void;
        const backlog = new Promise<void>((r) => (publishedAll = r));
        env.receiver.reset();
        env.receiver.respondWith(async () => {
          most = Math.max(most, ++open);
          await backlog;
          await new Promise((r) => setTimeout(r, 25));
          open--;
          return { status: 200 };
        });
        for (let i = 0; i < 300; i++) assert.equal((await env.publish('PaymentCreated', { n: i })).status, 202);
        publishedAll();
        await env.settle();
        assert.equal(events(env.receiver).length, 300);
        assert.ok(most > 8, `at most ${most} requests were in flight at once (the old fixed limit was 8)`);
        assert.ok(most <= 32, `${most} requests in flight: past the ceiling`);
        const d = await destinationOf(sub.uuid);
        assert.ok((d.concurrencyLimit as number) > 8, `the attempt log shows limit ${String(d.concurrencyLimit)}`);
        assert.equal(d.inFlight, 0);
      });

      it('a 503 with Retry-After pauses the whole destination, not only its message', async () => {
        const sub = await env.subscribe('pause', ['InvoiceCreated']);
        env.receiver.reset();
        env.receiver.respondWith(() => ({ status: 503, headers: { 'retry-after': '120' } }));
        assert.equal((await env.publish('InvoiceCreated', { n: 0 })).status, 202);
        await env.settle();
        assert.equal(events(env.receiver).length, 1);
        env.receiver.respondWith(200);
        for (let i = 1; i <= 5; i++) assert.equal((await env.publish('InvoiceCreated', { n: i })).status, 202);
        await env.advance(60); // new messages are due at once; the destination is paused for 120 s
        assert.equal(events(env.receiver).length, 1, 'nothing was sent to the paused destination');
        const origin = new URL(env.receiver.url).origin;
        const scrape = await (await env.h.request('/metrics')).text();
        assert.match(scrape, new RegExp(`herald_destination_concurrency_limit\\{origin="${origin}",state="paused"\\} \\d+`));
        const d = await destinationOf(sub.uuid);
        assert.equal(d.state, 'paused');
        assert.ok(typeof d.pausedUntil === 'string' && Date.parse(d.pausedUntil) > env.clock.now().getTime(), String(d.pausedUntil));
        await env.advance(61);
        const payloads = events(env.receiver).map((r) => JSON.parse((r.json as { payload: string }).payload) as { n: number });
        assert.deepEqual(new Set(payloads.slice(1).map((p) => p.n)), new Set([0, 1, 2, 3, 4, 5]));
      });
    });

    describe('isolation and identity events', () => {
      let env: Env;
      before(async () => {
        // Few slots, so that a destination without a cap would take them all.
        env = await setup(backend, { workerConcurrency: 4, perDestinationConcurrency: 2 });
      });
      after(() => env.stop());

      it('a slow destination does not delay deliveries to others', async () => {
        const slow = await startReceiver();
        try {
          // Subscribe while the slow receiver still answers at once, then slow it down.
          const res = await asCredential(env.h, env.cred)('POST', '/organizations/self/subscriptions', {
            uuid: uuidv1(),
            transportName: 'WEBHOOK',
            eventNames: ['PaymentCreated'],
            destination: slow.url,
            contactEmail: 'slow@example.com',
          });
          assert.equal(res.status, 200);
          await env.subscribe('fast', ['PaymentCreated']);
          slow.reset();
          env.receiver.reset();
          slow.respondWith(() => ({ status: 200, delayMs: 300 }));
          for (let i = 0; i < 20; i++) await env.publish('PaymentCreated', { n: i });
          env.h.worker!.wake();
          // The fast destination gets all 20 while the slow one, 2 at a time, has barely started.
          await env.receiver.waitFor(20);
          assert.ok(slow.requests.length <= 6, `the slow destination had ${slow.requests.length} requests`);
          await env.settle();
          assert.equal(slow.requests.length, 20, 'the slow destination still gets every message');
        } finally {
          await slow.close();
        }
      });

      it('deleting an API key delivers PersonalAssertionDeleted to the subscriptions it created', async () => {
        const key = await createCredential(env.h, ['READ:PRODUCT'], { organizationUuid: env.cred.organizationUuid });
        const res = await asCredential(env.h, key)('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['PersonalAssertionDeleted'],
          destination: `${env.receiver.url}?s=assertion`,
          contactEmail: 'k@example.com',
        });
        assert.equal(res.status, 200);
        env.receiver.reset();
        const del = await env.h.admin(`/admin/organizations/${env.cred.organizationUuid}/api-keys/${key.apiKeyId}`, { method: 'DELETE' });
        assert.equal(del.status, 204);
        await env.settle();
        const got = events(env.receiver).filter((r) => tagOf(r) === 'assertion');
        assert.equal(got.length, 1);
        const body = got[0]!.json as { eventName: string; payload: string };
        assert.equal(body.eventName, 'PersonalAssertionDeleted');
        assert.equal((JSON.parse(body.payload) as { apiKeyId: string }).apiKeyId, key.apiKeyId);
      });
    });

    describe('what counts as a failure', () => {
      let env: Env;
      before(async () => {
        env = await setup(backend);
      });
      after(() => env.stop());

      it('3xx, timeouts, connection refused and DNS failures are failures, classified in the attempt log', async () => {
        const closed = `http://127.0.0.1:${await freePort()}/hook`;
        const subs = {
          redirect: await env.subscribe('redirect', ['PaymentCreated']),
          timeout: await env.subscribe('timeout', ['PaymentCreated']),
          refused: await env.subscribe('refused', ['PaymentCreated'], closed),
          dns: await env.subscribe('dns', ['PaymentCreated'], 'http://no-such-host.invalid/hook'),
        };
        env.receiver.respondWith((req) =>
          tagOf(req) === 'redirect'
            ? { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }
            : { status: 200, delayMs: 1500 },
        );
        const { messageId } = (await (await env.publish('PaymentCreated', { n: 1 })).json()) as { messageId: string };
        await env.settle();
        const call = asCredential(env.h, env.cred);
        const classOf = async (uuid: string) => {
          const r = (await (await call('GET', `/organizations/self/subscriptions/${uuid}/messages/${messageId}/attempts`)).json()) as {
            message: { state: string; nextAttempt: string | null };
            attempts: { errorClass: string; statusCode: number | null; outcome: string }[];
          };
          assert.equal(r.message.state, 'pending');
          assert.equal(r.message.nextAttempt, new Date(env.clock.now().getTime() + 60_000).toISOString());
          assert.equal(r.attempts.length, 1);
          assert.equal(r.attempts[0]!.outcome, 'failure');
          return [r.attempts[0]!.errorClass, r.attempts[0]!.statusCode];
        };
        assert.deepEqual(await classOf(subs.redirect.uuid), ['redirect', 302]);
        assert.deepEqual(await classOf(subs.timeout.uuid), ['timeout', null]);
        assert.deepEqual(await classOf(subs.refused.uuid), ['connect', null]);
        assert.deepEqual(await classOf(subs.dns.uuid), ['dns', null]);
        env.receiver.respondWith(200);
      });

      it('resend one message sends it again with the same messageId and a new messageUuid', async () => {
        const sub = await env.subscribe('one', ['PaymentCreated']);
        env.receiver.reset();
        const { messageId } = (await (await env.publish('PaymentCreated', { n: 5 })).json()) as { messageId: string };
        await env.settle();
        const first = env.receiver.requests.find((r) => tagOf(r) === 'one')!;
        const res = await asCredential(env.h, env.cred)('POST', `/organizations/self/subscriptions/${sub.uuid}/messages/${messageId}/resend`);
        assert.equal(res.status, 202);
        assert.deepEqual(await res.json(), { resent: 1 });
        await env.settle();
        const both = env.receiver.requests.filter((r) => tagOf(r) === 'one');
        assert.equal(both.length, 2);
        const [a, b] = both.map((r) => r.json as { messageId: string; messageUuid: string });
        assert.equal(a!.messageId, b!.messageId);
        assert.notEqual(a!.messageUuid, b!.messageUuid);
        assert.equal(first.headers['webhook-id'], messageId);
        const missing = await asCredential(env.h, env.cred)('POST', `/organizations/self/subscriptions/${sub.uuid}/messages/${uuidv1()}/resend`);
        assert.equal(missing.status, 404);
      });

      it('the attempt log needs the subscription\'s scope', async () => {
        const sub = await env.subscribe('scoped', ['PaymentCreated']);
        const productsOnly = await createCredential(env.h, ['READ:PRODUCT'], { organizationUuid: env.cred.organizationUuid });
        const res = await asCredential(env.h, productsOnly)('GET', `/organizations/self/subscriptions/${sub.uuid}/messages`);
        assert.equal(res.status, 403);
      });
    });
  });
}

describe('mail when the SMTP server is down', () => {
  it('is not marked sent; it is tried again later, and sent once the server is back', async () => {
    const env = await setup(testDatabases()[0]!);
    try {
      await env.subscribe('down', ['PaymentCreated']);
      const smtpUrl = env.smtp.url;
      await env.smtp.close(); // the server goes away
      env.receiver.respondWith(500);
      await env.publish('PaymentCreated', { n: 1 });
      await env.settle();
      await env.h.mailSender!.flush();
      const mails = (await (await env.h.admin('/admin/mails')).json()) as { sent: string | null; lastError: string | null }[];
      assert.equal(mails.length, 1);
      assert.equal(mails[0]!.sent, null);
      assert.ok(mails[0]!.lastError, 'the failure is recorded');
      const row = await env.h.db.query<{ attempts: number; next_attempt_at: Date }>('select attempts, next_attempt_at from mails');
      assert.equal(row.rows[0]!.attempts, 1);
      assert.equal(row.rows[0]!.next_attempt_at.getTime(), env.clock.now().getTime() + 60_000, 'the next try comes a minute later');
      assert.ok(smtpUrl);
    } finally {
      await env.h.stop();
      await env.receiver.close();
    }
  });
});

describe('mail without SMTP', () => {
  it('is kept in the store and listed by GET /admin/mails', async () => {
    const env = await setup(testDatabases()[0]!, { smtpUrl: undefined });
    try {
      assert.equal(env.h.mailSender, undefined);
      await env.subscribe('m', ['PaymentCreated']);
      env.receiver.respondWith(500);
      await env.publish('PaymentCreated', { n: 1 });
      await env.settle();
      const mails = (await (await env.h.admin('/admin/mails')).json()) as { kind: string; to: string; sent: string | null }[];
      assert.equal(mails.length, 1);
      assert.deepEqual([mails[0]!.kind, mails[0]!.to, mails[0]!.sent], ['failing', 'm@example.com', null]);
      assert.equal(env.smtp.messages.length, 0);
    } finally {
      await env.stop();
    }
  });
});

for (const backend of testDatabases()) {
  describe(`recording successes: ${backend.name}`, () => {
    it('a batch that fails to record (one of its rows gone) is recorded row by row: the others are delivered once', async () => {
      const env = await setup(backend);
      try {
        await env.subscribe('batch', ['PaymentCreated']);
        env.receiver.reset();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        env.receiver.respondWith(async () => {
          await gate;
          return { status: 200 };
        });
        for (let i = 0; i < 6; i++) assert.equal((await env.publish('PaymentCreated', { i })).status, 202);
        env.h.worker!.wake();
        await env.receiver.waitFor(6); // all six in flight, held by the gate
        // One delivery disappears while in flight: its attempt row cannot be written
        // (foreign key), so the statement recording the batch fails as a whole.
        const rows = await env.h.db.query<{ id: number }>(`select id from deliveries where state = 'pending' order by id`);
        assert.equal(rows.rows.length, 6);
        await env.h.db.query('delete from deliveries where id = $1', [rows.rows[2]!.id]);
        release();
        await env.h.worker!.idle();
        const states = await env.h.db.query<{ state: string; leased_by: string | null }>('select state, leased_by from deliveries order by id');
        assert.deepEqual(
          states.rows.map((r) => [r.state, r.leased_by]),
          Array.from({ length: 5 }, () => ['delivered', null]),
          'the five others are recorded, not left leased to be sent again',
        );
        assert.equal(env.receiver.requests.length, 6, 'each was sent once');
      } finally {
        await env.stop();
      }
    });
  });
}
