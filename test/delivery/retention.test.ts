// Retention end to end (issue 13 item 12): a real Herald with its worker, a real
// receiver, and a manual clock moved by weeks. What finished more than
// HERALD_RETENTION_DAYS ago goes (deliveries with their attempts, then events no delivery
// references); undelivered messages stay until they are delivered, resent or their
// subscription is gone; the attempt log and the undelivered API answer correctly after
// a sweep. On both databases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases, type TestDatabase } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

const DAY = 86_400;

interface Env {
  h: TestHerald;
  clock: ManualClock;
  receiver: TestReceiver;
  cred: TestCredential;
  call: ReturnType<typeof asCredential>;
  /** What each destination tag answers (200 unless set). */
  answers: Map<string, number>;
  subscribe(tag: string): Promise<string>;
  publish(payload: unknown, messageId?: string): Promise<{ messageId: string; duplicate: boolean; deliveries: number }>;
  settle(): Promise<void>;
  /** Moves the clock and lets the worker catch up. */
  advance(seconds: number): Promise<void>;
  sweep(): ReturnType<NonNullable<TestHerald['retention']>['sweep']>;
  /** The messageIds of a subscription's messages in the attempt log (one state, or all). */
  messages(uuid: string, state?: string): Promise<string[]>;
  stop(): Promise<void>;
}

const tagOf = (r: ReceivedRequest) => new URL(r.path, 'http://x').searchParams.get('s');

async function setup(backend: TestDatabase, config: Partial<Config> = {}): Promise<Env> {
  const clock = new ManualClock(Date.now());
  const receiver = await startReceiver();
  const answers = new Map<string, number>();
  receiver.respondWith((req) => ({ status: answers.get(tagOf(req) ?? '') ?? 200 }));
  const h = await startTestHerald(backend, {
    clock,
    roles: { api: true, worker: true },
    random: () => 0.5,
    config: { retentionDays: 30, retentionIntervalSeconds: null, exhaustedSubscription: 'keep', pollIntervalMs: 60_000, deliveryTimeoutMs: 500, leaseSeconds: 5, ...config },
  });
  const cred = await createCredential(h, ALL_SCOPES);
  const call = asCredential(h, cred);
  const settle = async () => {
    h.worker!.wake();
    await h.worker!.idle();
  };
  return {
    h,
    clock,
    receiver,
    cred,
    call,
    answers,
    async subscribe(tag) {
      const uuid = uuidv1();
      const res = await call('POST', '/organizations/self/subscriptions', {
        uuid,
        transportName: 'WEBHOOK',
        eventNames: ['PaymentCreated'],
        destination: `${receiver.url}?s=${tag}`,
        contactEmail: `${tag}@example.com`,
      });
      assert.equal(res.status, 200, await res.clone().text());
      return uuid;
    },
    async publish(payload, messageId) {
      const res = await h.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName: 'PaymentCreated', payload, ...(messageId ? { messageId } : {}) }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      return (await res.json()) as { messageId: string; duplicate: boolean; deliveries: number };
    },
    settle,
    async advance(seconds) {
      clock.advance(seconds * 1000);
      await settle();
    },
    sweep: () => h.retention!.sweep(),
    async messages(uuid, state = 'all') {
      const res = await h.admin(`/admin/organizations/${cred.organizationUuid}/subscriptions/${uuid}/messages?state=${state}`);
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { messages: { messageId: string }[] }).messages.map((m) => m.messageId);
    },
    async stop() {
      await h.stop();
      await receiver.close();
    },
  };
}

/** How many events rows hold this message id (the outbox row itself). */
async function eventRows(env: Env, messageId: string): Promise<number> {
  const r = await env.h.db.query<{ n: number }>('select count(*) as n from events where message_id = $1', [messageId]);
  return r.rows[0]!.n;
}

async function attemptRows(env: Env, messageId: string): Promise<number> {
  const r = await env.h.db.query<{ n: number }>(
    `select count(*) as n from attempts a join deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id
      where e.message_id = $1`,
    [messageId],
  );
  return r.rows[0]!.n;
}

for (const backend of testDatabases()) {
  describe(`retention: ${backend.name}`, () => {
    it('delivered messages older than the retention go with their attempts and events; younger ones stay', async () => {
      const env = await setup(backend);
      try {
        const sub = await env.subscribe('ok');
        const old = await env.publish({ n: 1 });
        await env.settle();
        await env.advance(20 * DAY);
        const young = await env.publish({ n: 2 });
        await env.settle();
        assert.deepEqual(await env.messages(sub), [young.messageId, old.messageId]);

        await env.advance(10 * DAY + 3600); // old: 30 days and an hour; young: 10 days and an hour
        const r = await env.sweep();
        assert.equal(r.swept, true);
        assert.equal(r.deliveries, 1);
        assert.equal(await eventRows(env, old.messageId), 0, 'the old event went');
        assert.equal(await attemptRows(env, old.messageId), 0);
        assert.equal(await eventRows(env, young.messageId), 1, 'the young event stays');
        assert.equal(await attemptRows(env, young.messageId), 1);

        // The attempt log answers as if the old message had never been.
        assert.deepEqual(await env.messages(sub), [young.messageId]);
        const gone = await env.call('GET', `/organizations/self/subscriptions/${sub}/messages/${old.messageId}/attempts`);
        assert.equal(gone.status, 404);
        const kept = await env.call('GET', `/organizations/self/subscriptions/${sub}/messages/${young.messageId}/attempts`);
        assert.equal(kept.status, 200);
        const log = (await kept.json()) as { message: { state: string }; attempts: { outcome: string }[] };
        assert.deepEqual([log.message.state, log.attempts.map((a) => a.outcome)], ['delivered', ['success']]);

        // A sweep with nothing old enough removes nothing; the metric counts what went.
        assert.equal((await env.sweep()).deliveries, 0);
        const metrics = await (await env.h.request('/metrics')).text();
        assert.match(metrics, /herald_retention_removed_total\{table="deliveries"\} 1\b/);
      } finally {
        await env.stop();
      }
    });

    it('an undelivered message of a live subscription stays however old; once resent and delivered it ages like any other', async () => {
      const env = await setup(backend, { retrySchedule: [60] });
      try {
        const sub = await env.subscribe('dead');
        env.answers.set('dead', 500);
        const m = await env.publish({ n: 3 });
        await env.settle();
        await env.advance(61); // second failure: the schedule is exhausted; kept FAILING
        assert.deepEqual(await env.messages(sub, 'failed'), [m.messageId]);

        await env.advance(400 * DAY);
        const r = await env.sweep();
        assert.equal(r.deliveries, 0);
        assert.equal(r.events, 0);
        assert.deepEqual(await env.messages(sub, 'failed'), [m.messageId]);
        assert.equal(await attemptRows(env, m.messageId), 2, 'its attempt log stays');
        const undelivered = await env.call('GET', '/undelivered?page=1&pageSize=10');
        assert.equal(undelivered.status, 200);
        const list = (await undelivered.json()) as { undelivered: { eventId: string; data: unknown; state: string }[]; count: number };
        assert.equal(list.count, 1);
        assert.deepEqual(
          list.undelivered.map((u) => [u.eventId, u.data, u.state]),
          [[m.messageId, { n: 3 }, 'failed']],
          'listed with its payload: the event stayed too',
        );

        // Resent and delivered now: it goes 30 days after this delivery, not before.
        env.answers.set('dead', 200);
        const resend = await env.call('POST', `/organizations/self/subscriptions/${sub}/messages/${m.messageId}/resend`);
        assert.equal(resend.status, 202);
        await env.settle();
        assert.deepEqual(await env.messages(sub, 'delivered'), [m.messageId]);
        await env.advance(29 * DAY);
        assert.equal((await env.sweep()).deliveries, 0);
        assert.deepEqual(await env.messages(sub), [m.messageId]);
        await env.advance(2 * DAY);
        assert.equal((await env.sweep()).deliveries, 1);
        assert.deepEqual(await env.messages(sub), []);
        assert.equal(await eventRows(env, m.messageId), 0);
      } finally {
        await env.stop();
      }
    });

    it("a deleted subscription's undelivered messages go once the retention has passed since its deletion", async () => {
      const env = await setup(backend, { retrySchedule: [60] });
      try {
        const sub = await env.subscribe('gone');
        env.answers.set('gone', 500);
        const failed = await env.publish({ n: 4 });
        await env.settle();
        await env.advance(61);
        await env.advance(100 * DAY);
        const pending = await env.publish({ n: 5 }); // fails once, then waits for its retry
        await env.settle();
        const del = await env.call('DELETE', `/organizations/self/subscriptions/${sub}`);
        assert.equal(del.status, 204, await del.text());
        // The admin still reads the deleted subscription's log: failed, and cancelled by the deletion.
        const states = async () => {
          const res = await env.h.admin(`/admin/organizations/${env.cred.organizationUuid}/subscriptions/${sub}/messages`);
          return ((await res.json()) as { messages: { messageId: string; state: string }[] }).messages.map((x) => [x.messageId, x.state]);
        };
        const both = [
          [pending.messageId, 'cancelled'],
          [failed.messageId, 'failed'],
        ];
        assert.deepEqual(await states(), both);

        assert.equal((await env.sweep()).deliveries, 0, 'deleted just now: kept for the retention');
        await env.advance(29 * DAY);
        assert.equal((await env.sweep()).deliveries, 0);
        assert.deepEqual(await states(), both);
        await env.advance(2 * DAY);
        const r = await env.sweep();
        assert.equal(r.deliveries, 2);
        assert.deepEqual(await states(), []);
        assert.equal(await eventRows(env, failed.messageId), 0);
        assert.equal(await eventRows(env, pending.messageId), 0);
      } finally {
        await env.stop();
      }
    });

    it('an event another subscription still has to deliver stays, and is delivered intact', async () => {
      const WEEK = 7 * DAY;
      const env = await setup(backend, { retrySchedule: [WEEK, WEEK, WEEK, WEEK, WEEK, WEEK] });
      try {
        const fast = await env.subscribe('fast');
        const slow = await env.subscribe('slow');
        env.answers.set('slow', 503);
        const m = await env.publish({ n: 6, note: 'still needed' });
        await env.settle();
        for (let week = 1; week <= 4; week++) await env.advance(WEEK); // 28 days: slow failed 5 times
        await env.advance(3 * DAY); // 31 days: fast's delivery is old; slow's still pending
        const r = await env.sweep();
        assert.equal(r.deliveries, 1, "fast's delivered message goes");
        assert.equal(r.events, 0, 'the event stays: a pending delivery references it');
        assert.deepEqual(await env.messages(fast), []);
        assert.deepEqual(await env.messages(slow, 'pending'), [m.messageId]);

        env.answers.set('slow', 200);
        await env.advance(WEEK);
        const got = env.receiver.requests.filter((q) => tagOf(q) === 'slow' && q.headers['webhook-id'] === m.messageId);
        assert.equal(got.length, 6);
        assert.deepEqual(JSON.parse((got[5]!.json as { payload: string }).payload), { n: 6, note: 'still needed' });
        assert.deepEqual(await env.messages(slow, 'delivered'), [m.messageId]);

        await env.advance(31 * DAY);
        const later = await env.sweep();
        assert.deepEqual([later.deliveries, later.events >= 1, await eventRows(env, m.messageId)], [1, true, 0]);
      } finally {
        await env.stop();
      }
    });

    it('an event nobody received goes after the retention; then its messageId is a new message', async () => {
      const env = await setup(backend);
      try {
        const first = await env.publish({ n: 7 }, 'producer-id-7');
        assert.deepEqual([first.duplicate, first.deliveries], [false, 0]);
        assert.equal((await env.publish({ n: 7 }, 'producer-id-7')).duplicate, true);
        await env.advance(20 * DAY);
        const young = await env.publish({ n: 8 }, 'producer-id-8');
        await env.advance(10 * DAY + 60);
        const r = await env.sweep();
        assert.ok(r.events >= 1);
        assert.equal(await eventRows(env, first.messageId), 0);
        assert.equal(await eventRows(env, young.messageId), 1, 'a younger event stays');
        assert.equal((await env.publish({ n: 8 }, 'producer-id-8')).duplicate, true);
        const again = await env.publish({ n: 7 }, 'producer-id-7');
        assert.deepEqual([again.messageId, again.duplicate], [first.messageId, false], 'accepted again after the retention');
      } finally {
        await env.stop();
      }
    });

    it('runs in the worker role only', async () => {
      const h = await startTestHerald(backend, { roles: { api: true, worker: false } });
      try {
        assert.equal(h.retention, undefined);
      } finally {
        await h.stop();
      }
    });
  });
}
