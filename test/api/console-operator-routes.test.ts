// The admin routes behind the Console's operator views (issue 11): the delivery backlog,
// throughput over time, the destinations in trouble, and paging of the organization and
// mail lists. Real deliveries to real receivers on a manual clock, and rows placed by SQL
// where a state is hard to reach through deliveries (leases, ordered heads, a backlog
// over the scan cap).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { PENDING_SCAN_CAP } from '../../src/domain/delivery-overview.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

interface Backlog {
  pending: number;
  pendingCapped: boolean;
  due: number;
  inFlight: number;
  retrying: number;
  oldestDueAt: string | null;
  oldestDueAgeSeconds: number | null;
  oldestPendingCreated: string | null;
  unsentMails: number;
}
interface Bucket {
  start: string;
  successes: number;
  failures: number;
  p50LatencyMs?: number;
}
interface Throughput {
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: Bucket[];
}
interface Destination {
  origin: string;
  state: string;
  concurrencyLimit: number;
  ceiling: number;
  inFlight: number;
  pausedUntil: string | null;
  failingSubscriptions: number;
  pending: number;
  oldestFailingSince: string | null;
}
interface DestinationPage {
  destinations: Destination[];
  cursor: string | null;
  pendingCapped: boolean;
}

async function getJson<T>(h: TestHerald, path: string): Promise<T> {
  const res = await h.admin(path);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

/** Every page of the troubled destinations, following the cursor; fails if a page repeats an origin. */
async function allDestinationPages(h: TestHerald, limit: number): Promise<{ origins: string[]; pages: number }> {
  const origins: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page: DestinationPage = await getJson<DestinationPage>(
      h,
      `/admin/destinations?limit=${limit}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`,
    );
    pages += 1;
    assert.ok(page.destinations.length <= limit);
    origins.push(...page.destinations.map((d) => d.origin));
    after = page.cursor;
    assert.ok(pages < 100, 'the cursor moves on');
  } while (after !== null);
  assert.equal(new Set(origins).size, origins.length, `each destination once: ${origins.join(', ')}`);
  return { origins, pages };
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

for (const backend of testDatabases()) {
  describe(`Console operator routes, real deliveries: ${backend.name}`, () => {
    const clock = new ManualClock(Date.now());
    const T0 = clock.now().getTime();
    let h: TestHerald;
    const receivers: Record<'ok' | 'fail' | 'over' | 'pause' | 'slow', TestReceiver> = {} as never;
    const orgs: Record<keyof typeof receivers, string> = {} as never;
    const slowGate = gate();

    const settle = async () => {
      h.worker!.wake();
      await h.worker!.idle();
    };
    const publish = async (org: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await h.admin(`/admin/organizations/${org}/events`, {
          method: 'POST',
          body: JSON.stringify({ eventName: 'PaymentCreated', payload: { n: i } }),
        });
        assert.equal(res.status, 202, await res.clone().text());
      }
    };

    before(async () => {
      h = await startTestHerald(backend, {
        clock,
        roles: { api: true, worker: true },
        random: () => 0.5, // no jitter: retries come exactly 60 s after a failure
        config: { retrySchedule: [60, 600], pollIntervalMs: 60_000, deliveryTimeoutMs: 2000, leaseSeconds: 10, perDestinationConcurrency: 32 },
      });
      // One organization per destination, so each publish reaches one receiver.
      for (const name of ['ok', 'fail', 'over', 'pause', 'slow'] as const) {
        receivers[name] = await startReceiver();
        const cred = await createCredential(h, ALL_SCOPES);
        orgs[name] = cred.organizationUuid;
        const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['PaymentCreated'],
          destination: receivers[name].url,
          contactEmail: `${name}@example.com`,
        });
        assert.equal(res.status, 200, await res.clone().text());
      }
      receivers.fail.respondWith(500); // failing, but says nothing about capacity
      receivers.over.respondWith(503); // overloaded: the origin's limit is halved
      receivers.pause.respondWith(() => ({ status: 429, headers: { 'retry-after': '3600' } })); // paused for an hour
      receivers.slow.respondWith(async () => {
        await slowGate.opened;
        return { status: 200 };
      });
    });
    after(async () => {
      slowGate.open();
      await h?.stop();
      for (const r of Object.values(receivers)) await r.close();
    });

    it('every new route needs the admin token', async () => {
      for (const path of ['/admin/delivery/backlog', '/admin/delivery/throughput', '/admin/destinations']) {
        assert.equal((await h.request(path)).status, 401, path);
        assert.equal((await h.request(path, { headers: { authorization: 'Bearer not-the-token' } })).status, 401, path);
        const cred = await createCredential(h, ALL_SCOPES, { organizationUuid: orgs.ok });
        assert.equal((await h.request(path, { headers: { authorization: cred.auth } })).status, 401, `${path} with an API key`);
        assert.equal((await h.request(path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status, 200, path);
      }
    });

    it('the backlog counts what the deliveries left pending: retries, due rows of a paused destination, unsent mails', async () => {
      const empty = await getJson<Backlog>(h, '/admin/delivery/backlog');
      assert.deepEqual(empty, {
        pending: 0,
        pendingCapped: false,
        due: 0,
        inFlight: 0,
        retrying: 0,
        oldestDueAt: null,
        oldestDueAgeSeconds: null,
        oldestPendingCreated: null,
        unsentMails: 0,
      });
      await publish(orgs.ok, 3);
      await publish(orgs.fail, 2);
      await publish(orgs.over, 1);
      await publish(orgs.pause, 1);
      await settle();
      assert.equal(receivers.ok.requests.length, 1 + 3, 'the TestMessage and 3 events');
      // The pause is in force: these two are due, and no claim takes them.
      await publish(orgs.pause, 2);
      await settle();
      assert.equal(receivers.pause.requests.length, 1 + 1);
      clock.advance(30_000);
      const b = await getJson<Backlog>(h, '/admin/delivery/backlog');
      assert.deepEqual(b, {
        pending: 2 + 1 + 1 + 2,
        pendingCapped: false,
        due: 2,
        inFlight: 0,
        retrying: 2 + 1 + 1,
        oldestDueAt: new Date(T0).toISOString(),
        oldestDueAgeSeconds: 30,
        oldestPendingCreated: new Date(T0).toISOString(),
        unsentMails: 3, // one "failing" mail per failing subscription, kept: no SMTP server
      });
    });

    it('a delivery in flight counts as in flight, not due and not retrying', async () => {
      await publish(orgs.slow, 1);
      h.worker!.wake();
      await receivers.slow.waitFor(2);
      const b = await getJson<Backlog>(h, '/admin/delivery/backlog');
      assert.deepEqual([b.pending, b.inFlight, b.due, b.retrying], [7, 1, 2, 4]);
      slowGate.open();
      await settle();
      const done = await getJson<Backlog>(h, '/admin/delivery/backlog');
      assert.deepEqual([done.pending, done.inFlight, done.due, done.retrying], [6, 0, 2, 4]);
    });

    it('lists the throttled and failing destinations, not the healthy ones, with their limits and counts', async () => {
      const { destinations, cursor } = await getJson<DestinationPage>(h, '/admin/destinations');
      assert.equal(cursor, null);
      const expected = [receivers.fail.origin, receivers.over.origin, receivers.pause.origin].sort();
      assert.deepEqual(
        destinations.map((d) => d.origin),
        expected,
      );
      const by = new Map(destinations.map((d) => [d.origin, d]));
      assert.deepEqual(by.get(receivers.fail.origin), {
        origin: receivers.fail.origin,
        state: 'growing',
        concurrencyLimit: 8,
        ceiling: 32,
        inFlight: 0,
        pausedUntil: null,
        failingSubscriptions: 1,
        pending: 2,
        oldestFailingSince: new Date(T0).toISOString(),
      });
      assert.deepEqual(by.get(receivers.over.origin), {
        origin: receivers.over.origin,
        state: 'backing-off',
        concurrencyLimit: 4,
        ceiling: 32,
        inFlight: 0,
        pausedUntil: null,
        failingSubscriptions: 1,
        pending: 1,
        oldestFailingSince: new Date(T0).toISOString(),
      });
      assert.deepEqual(by.get(receivers.pause.origin), {
        origin: receivers.pause.origin,
        state: 'paused',
        concurrencyLimit: 4,
        ceiling: 32,
        inFlight: 0,
        pausedUntil: new Date(T0 + 3_600_000).toISOString(),
        failingSubscriptions: 1,
        pending: 3,
        oldestFailingSince: new Date(T0).toISOString(),
      });
    });

    it('skips origins whose limit recovered or only grew, however many, and pages each destination once', async () => {
      // Origins once halved and grown back to the ceiling (steady), or only grown (growing),
      // or paused in the past: their rows stay, sorted before the receivers' origins, more
      // than one read's worth.
      const past = new Date(T0 - 3_600_000);
      await h.testDb.db.query(
        `insert into destination_limits (origin, concurrency, slow_start, decreased_at, paused_until, updated_at)
         select 'http://0-steady-' || lpad(g::text, 4, '0') || '.example', 32, false, $1::timestamptz, case when g % 2 = 0 then $1::timestamptz end, $1::timestamptz
           from generate_series(1, 1200) g
         union all
         select 'http://1-growing.example', 16, true, null, null, $1`,
        [past],
      );
      const expected = [receivers.fail.origin, receivers.over.origin, receivers.pause.origin].sort();
      assert.deepEqual((await allDestinationPages(h, 100)).origins, expected);
      const one = await allDestinationPages(h, 1);
      assert.deepEqual(one.origins, expected);
      assert.ok(one.pages >= 3 && one.pages <= 4, `${one.pages} pages`);
      assert.deepEqual((await allDestinationPages(h, 2)).origins, expected);
    });

    it('a destination that recovers leaves the list; one still backing off stays, no longer failing', async () => {
      receivers.fail.respondWith(200);
      receivers.over.respondWith(200);
      clock.advance(60_000); // T0 + 90 s: the retries of T0 + 60 s are due
      await settle();
      const { destinations } = await getJson<DestinationPage>(h, '/admin/destinations');
      assert.deepEqual(
        destinations.map((d) => d.origin),
        [receivers.over.origin, receivers.pause.origin].sort(),
      );
      const over = destinations.find((d) => d.origin === receivers.over.origin)!;
      assert.deepEqual([over.state, over.failingSubscriptions, over.pending, over.oldestFailingSince], ['backing-off', 0, 0, null]);
    });

    it('throughput: the attempts made, in the buckets of the times they started, every bucket present', async () => {
      const minute = 60_000;
      const t = await getJson<Throughput>(h, '/admin/delivery/throughput?hours=1&bucketMinutes=1');
      const now = clock.now().getTime();
      const from = Math.floor((now - 3_600_000) / minute) * minute;
      assert.equal(t.bucketSeconds, 60);
      assert.equal(t.from, new Date(from).toISOString());
      assert.equal(t.to, new Date(now).toISOString());
      assert.equal(t.buckets.length, Math.floor((now - from) / minute) + 1, 'up to the bucket holding now');
      t.buckets.forEach((b, i) => assert.equal(b.start, new Date(from + i * minute).toISOString()));
      // What was sent: at T0 3 successes (ok) and 4 failures (fail 2, over 1, pause 1);
      // at T0 + 30 s one success (slow); at T0 + 90 s the 3 retries, delivered.
      const expected = new Map<number, { successes: number; failures: number }>();
      for (const [at, successes, failures] of [
        [T0, 3, 4],
        [T0 + 30_000, 1, 0],
        [T0 + 90_000, 3, 0],
      ] as const) {
        const i = Math.floor((at - from) / minute);
        const e = expected.get(i) ?? { successes: 0, failures: 0 };
        expected.set(i, { successes: e.successes + successes, failures: e.failures + failures });
      }
      t.buckets.forEach((b, i) => {
        const e = expected.get(i) ?? { successes: 0, failures: 0 };
        assert.deepEqual([b.successes, b.failures], [e.successes, e.failures], `bucket ${i} (${b.start})`);
        assert.equal(b.p50LatencyMs !== undefined, e.successes + e.failures > 0, `p50 only where there were attempts (bucket ${i})`);
        if (b.p50LatencyMs !== undefined) assert.ok(Number.isInteger(b.p50LatencyMs) && b.p50LatencyMs >= 0);
      });
      const inDb = await h.testDb.db.query<{ outcome: string; n: number }>('select outcome, count(*)::int as n from attempts group by 1 order by 1');
      assert.deepEqual(inDb.rows, [
        { outcome: 'failure', n: 4 },
        { outcome: 'success', n: 7 },
      ]);

      const ok = await getJson<Throughput>(h, `/admin/delivery/throughput?hours=1&bucketMinutes=1&organizationUuid=${orgs.ok}`);
      assert.deepEqual(
        [ok.buckets.reduce((n, b) => n + b.successes, 0), ok.buckets.reduce((n, b) => n + b.failures, 0)],
        [3, 0],
        "only the organization's attempts",
      );
      const day = await getJson<Throughput>(h, '/admin/delivery/throughput');
      assert.equal(day.bucketSeconds, 3600);
      assert.equal(day.buckets.length, 25, 'the bucket holding now - 24 h, to the one holding now');
      assert.equal(new Date(day.from).getTime() % 3_600_000, 0, 'hourly buckets start on the hour');
      assert.deepEqual([day.buckets.reduce((n, b) => n + b.successes, 0), day.buckets.reduce((n, b) => n + b.failures, 0)], [7, 4]);
    });

    it('throughput: at most 1000 buckets, and hours and bucketMinutes in range, else 400 VALIDATION_ERROR', async () => {
      for (const q of ['hours=24&bucketMinutes=1', 'hours=168&bucketMinutes=10', 'hours=0', 'hours=169', 'bucketMinutes=0', 'bucketMinutes=1441', 'organizationUuid=nope']) {
        const res = await h.admin(`/admin/delivery/throughput?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(((await res.json()) as { errorType: string }).errorType, 'VALIDATION_ERROR', q);
      }
      const most = await getJson<Throughput>(h, '/admin/delivery/throughput?hours=16&bucketMinutes=1');
      assert.equal(most.buckets.length, 961);
      assert.equal((await h.admin('/admin/destinations?limit=501')).status, 400);
    });

    it('organizations: paged by limit and after, each once, in the order of the whole list; the default answers all', async () => {
      const all = await getJson<{ organizationUuid: string }[]>(h, '/admin/organizations');
      assert.equal(all.length, 5);
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await getJson<{ organizationUuid: string }[]>(h, `/admin/organizations?limit=2${after ? `&after=${after}` : ''}`);
        seen.push(...page.map((o) => o.organizationUuid));
        if (page.length < 2) break;
        after = page[page.length - 1]!.organizationUuid;
      }
      assert.deepEqual(seen, all.map((o) => o.organizationUuid));
      for (const q of ['limit=0', 'limit=1001', `after=${uuidv1()}`, 'after=nope']) {
        const res = await h.admin(`/admin/organizations?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(((await res.json()) as { errorType: string }).errorType, 'VALIDATION_ERROR', q);
      }
    });

    it('mails: paged with before, newest first, each once', async () => {
      const all = await getJson<{ id: number }[]>(h, '/admin/mails');
      assert.equal(all.length, 3);
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await getJson<{ id: number }[]>(h, `/admin/mails?limit=1${before ? `&before=${before}` : ''}`);
        seen.push(...page.map((m) => m.id));
        if (page.length < 1) break;
        before = page[page.length - 1]!.id;
      }
      assert.deepEqual(seen, all.map((m) => m.id));
      assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
      assert.equal((await h.admin('/admin/mails?before=0')).status, 400);
    });
  });

  describe(`Console operator routes, rows placed by SQL: ${backend.name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    const T = clock.now().getTime();
    const at = (ms: number) => new Date(T + ms);
    let h: TestHerald;
    let receiver: TestReceiver;
    let org: string;
    let other: string;

    before(async () => {
      receiver = await startReceiver();
      h = await startTestHerald(backend, { clock, roles: { api: true, worker: false } });
      const cred = await createCredential(h, ALL_SCOPES);
      org = cred.organizationUuid;
      other = (await createCredential(h, ALL_SCOPES)).organizationUuid;
      for (const ordered of [false, true]) {
        const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['PaymentCreated'],
          destination: `${receiver.url}?ordered=${ordered}`,
          contactEmail: 'ops@example.com',
          ...(ordered ? { ordered: true } : {}),
        });
        assert.equal(res.status, 200, await res.clone().text());
      }
      for (let i = 0; i < 6; i++) {
        const res = await h.admin(`/admin/organizations/${org}/events`, { method: 'POST', body: JSON.stringify({ eventName: 'PaymentCreated', payload: { i } }) });
        assert.equal(res.status, 202);
      }
    });
    after(async () => {
      await h?.stop();
      await receiver?.close();
    });

    /** Sets the columns of the n-th delivery (1-based, by id) of the unordered or ordered subscription. */
    const setDelivery = async (ordered: boolean, n: number, set: string, params: unknown[]) => {
      const r = await h.testDb.db.query(
        `update deliveries set ${set}
          where id = (select id from deliveries where ordered = $1 order by id offset ${n - 1} limit 1)`,
        [ordered, ...params],
      );
      assert.equal(r.rowCount, 1);
    };

    it('due: time come and not held by a live lease; of an ordered subscription only its head; retrying: attempted, not in flight', async () => {
      await setDelivery(false, 2, 'attempts = 2, next_attempt_at = $2', [at(-10_000)]); // due, retrying
      await setDelivery(false, 3, "attempts = 1, leased_by = 'w1', next_attempt_at = $2", [at(30_000)]); // in flight
      await setDelivery(false, 4, "attempts = 1, leased_by = 'w1', next_attempt_at = $2", [at(-5_000)]); // lease ran out: due, retrying
      await setDelivery(false, 5, 'attempts = 1, next_attempt_at = $2, created_at = $3', [at(60_000), at(-3_600_000)]); // waits for its retry
      await setDelivery(false, 6, "state = 'delivered', finished_at = $2", [at(0)]);
      await setDelivery(true, 1, "state = 'delivered', finished_at = $2", [at(0)]);
      await setDelivery(true, 2, 'next_attempt_at = $2', [at(-20_000)]); // the head, due
      await setDelivery(true, 3, 'next_attempt_at = $2', [at(-60_000)]); // behind the head: not due
      await h.testDb.db.query(
        `insert into mails (organization_uuid, subscription_uuid, kind, to_address, subject, body, created_at, next_attempt_at, sent_at)
         values ($1, $2, 'failing', 'a@example.com', 's', 'b', $3, $3, null), ($1, $2, 'failing', 'a@example.com', 's', 'b', $3, $3, $3)`,
        [org, uuidv1(), at(0)],
      );
      assert.deepEqual(await getJson<Backlog>(h, '/admin/delivery/backlog'), {
        pending: 5 + 5,
        pendingCapped: false,
        due: 4, // unordered 1, 2 and 4; the ordered head
        inFlight: 1,
        retrying: 3, // unordered 2, 4 and 5
        oldestDueAt: at(-20_000).toISOString(),
        oldestDueAgeSeconds: 20,
        oldestPendingCreated: at(-3_600_000).toISOString(),
        unsentMails: 1,
      });
    });

    it(`a backlog over ${PENDING_SCAN_CAP} rows is capped, the due count of unordered rows stays exact`, async () => {
      await h.testDb.db.query(
        `insert into deliveries (event_id, subscription_id, state, attempts, next_attempt_at, created_at, ordered)
         select d.event_id, d.subscription_id, 'pending', 0, $2, $2, false
           from (select event_id, subscription_id from deliveries where not ordered order by id limit 1) d, generate_series(1, $1::int)`,
        [PENDING_SCAN_CAP + 10, at(3_600_000)],
      );
      try {
        const b = await getJson<Backlog>(h, '/admin/delivery/backlog');
        assert.equal(b.pendingCapped, true);
        assert.equal(b.pending, PENDING_SCAN_CAP + 5, 'the cap of unordered rows and the 5 ordered');
        assert.equal(b.due, 4);
        assert.equal(b.oldestDueAt, at(-20_000).toISOString());
        await h.testDb.db.query(`update subscriptions set status = 'FAILING', failing_since = $1 where not ordered`, [at(-60_000)]);
        const page = await getJson<DestinationPage>(h, '/admin/destinations');
        assert.deepEqual(
          page.destinations.map((d) => [d.origin, d.pending, d.failingSubscriptions, d.oldestFailingSince]),
          [[receiver.origin, PENDING_SCAN_CAP + 5, 1, at(-60_000).toISOString()]],
        );
        assert.equal(page.pendingCapped, true);
      } finally {
        await h.testDb.db.query('delete from deliveries where next_attempt_at = $1', [at(3_600_000)]);
        await h.testDb.db.query(`update subscriptions set status = 'ACTIVE', failing_since = null`);
      }
      assert.equal((await getJson<Backlog>(h, '/admin/delivery/backlog')).pendingCapped, false);
    });

    it('throughput reads the window from the attempt log by id, whatever its size, and counts as a full scan would', async () => {
      // 6,000 attempts over the last 12 hours, recorded up to 50 s out of order, with gaps in the ids.
      await h.testDb.db.query(
        `insert into attempts (delivery_id, attempt_id, started_at, latency_ms, outcome)
         select (select id from deliveries where ordered = (g % 3 = 0) order by id limit 1), 'a' || g,
                $1::timestamptz - make_interval(secs => (6000 - g) * 7.2 + (g * 7919 % 50)),
                g % 97, case when g % 4 = 0 then 'failure' else 'success' end
           from generate_series(1, 6000) g`,
        [at(0)],
      );
      await h.testDb.db.query(`delete from attempts where id % 100 between 10 and 30`);
      for (const [hours, bucketMinutes] of [
        [1, 1],
        [6, 7],
        [10, 60],
        [168, 1440],
      ] as const) {
        const bucketMs = bucketMinutes * 60_000;
        const from = Math.floor((T - hours * 3_600_000) / bucketMs) * bucketMs;
        for (const organizationUuid of [undefined, org, other]) {
          const t = await getJson<Throughput>(
            h,
            `/admin/delivery/throughput?hours=${hours}&bucketMinutes=${bucketMinutes}${organizationUuid ? `&organizationUuid=${organizationUuid}` : ''}`,
          );
          const full = await h.testDb.db.query<{ bucket: number; successes: number; failures: number; p50: number }>(
            `select floor((extract(epoch from a.started_at) * 1000 - $1) / $2)::int as bucket,
                    count(*) filter (where outcome = 'success')::int as successes,
                    count(*) filter (where outcome = 'failure')::int as failures,
                    percentile_disc(0.5) within group (order by latency_ms) as p50
               from attempts a join deliveries d on d.id = a.delivery_id join subscriptions s on s.id = d.subscription_id
              where a.started_at >= $3 and a.started_at <= $4 and ($5::uuid is null or s.organization_uuid = $5)
              group by 1`,
            [from, bucketMs, new Date(from), at(0), organizationUuid ?? null],
          );
          const expected = new Map(full.rows.map((r) => [r.bucket, r]));
          assert.equal(t.buckets.length, Math.floor((T - from) / bucketMs) + 1);
          t.buckets.forEach((b, i) => {
            const e = expected.get(i);
            assert.deepEqual(
              b,
              e ? { start: b.start, successes: e.successes, failures: e.failures, p50LatencyMs: e.p50 } : { start: b.start, successes: 0, failures: 0 },
              `${hours} h in ${bucketMinutes} min buckets, ${organizationUuid ?? 'all'}: bucket ${i}`,
            );
          });
          if (organizationUuid === other) assert.ok(t.buckets.every((b) => b.successes + b.failures === 0));
          else assert.ok(t.buckets.some((b) => b.successes > 0), 'the window holds attempts');
        }
      }
    });
  });
}
