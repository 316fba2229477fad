// Crash safety and scale-out with real processes: kill -9 in the middle of a 5,000-event
// load loses no acknowledged event; two workers on PostgreSQL never run one delivery at
// the same time.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPostgresDatabase } from '../helpers/db.js';
import { freePort, runHerald, subscribeToPayments, waitForHttp, type HeraldProcess } from '../helpers/process.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const ADMIN = 'crash-test-admin-token-0123456789';
const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
// Set when the file ends (also after a timeout): publishers stop retrying, so a test cut
// short fails and the file exits instead of retrying against a killed server forever.
let ended = false;
after(async () => {
  ended = true;
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c();
});

function env(extra: Record<string, string>): Record<string, string> {
  return {
    HERALD_ADMIN_TOKEN: ADMIN,
    HERALD_ALLOW_INSECURE_DESTINATIONS: 'true',
    HERALD_LOG_LEVEL: 'warn',
    HERALD_DELIVERY_TIMEOUT_MS: '2000',
    HERALD_LEASE_SECONDS: '5',
    HERALD_POLL_INTERVAL_MS: '200',
    HERALD_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1,1,1',
    // Several workers on one machine: each health listener on a free port.
    HERALD_WORKER_HEALTH_PORT: '0',
    ...extra,
  };
}

function start(args: string[], extra: Record<string, string>): HeraldProcess {
  const p = runHerald(args, env(extra));
  processes.push(p);
  return p;
}

async function kill9(p: HeraldProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

async function admin(base: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An organization, a key, and one subscription to PaymentCreated pointing at the receiver. */
const subscribe = (base: string, receiver: TestReceiver): Promise<string> => subscribeToPayments(base, ADMIN, receiver.url, 'Crash');

/**
 * Publishes `count` events with concurrency, each with its own messageId. A request that
 * fails (the server was killed) is repeated with the same messageId until acknowledged,
 * so every event ends up acknowledged exactly once. Returns the acknowledged message ids
 * (as Herald names them: the v5 UUID of each producer id).
 */
async function publishAll(baseOf: () => string, org: string, count: number, concurrency: number): Promise<Set<string>> {
  const acked = new Set<string>();
  let next = 0;
  const one = async (id: string) => {
    for (;;) {
      if (ended) throw new Error(`publishing ${id}: the test ended first`);
      try {
        const res = await admin(baseOf(), `/admin/organizations/${org}/events`, {
          eventName: 'PaymentCreated',
          messageId: id,
          payload: { id, amount: 100, padding: 'x'.repeat(200) },
        });
        if (res.status === 202) {
          acked.add(((await res.json()) as { messageId: string }).messageId);
          return;
        }
      } catch {
        // killed or restarting: try again
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await one(`msg-${String(i).padStart(5, '0')}`);
      }
    }),
  );
  return acked;
}

const uniqueIds = (r: TestReceiver) => new Set(r.requests.map((q) => q.headers['webhook-id'] as string).filter(Boolean));

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Safety nets for a stuck test, per test and generous (these take 6-35 s on an idle
// machine): a busy machine is slower, never wrong.
describe('crash safety', { timeout: 600_000 }, () => {
  it('embedded database: kill -9 during a 5,000-event load loses no acknowledged event', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    receiver.respondWith(() => ({ status: 200, delayMs: 2 }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const extra = { PORT: String(port), HERALD_DATA_DIR: dataDir };

    let p = start(['serve'], extra);
    await waitForHttp(`${base}/readyz`, undefined, p);
    const org = await subscribe(base, receiver);
    receiver.reset();
    receiver.respondWith(() => ({ status: 200, delayMs: 2 }));

    const publishing = publishAll(() => base, org, 5000, 16);
    await waitUntil(() => uniqueIds(receiver).size >= 500, 120_000, '500 deliveries before the kill');
    await kill9(p);
    const atKill = uniqueIds(receiver).size;
    p = start(['serve'], extra);
    await waitForHttp(`${base}/readyz`, undefined, p);
    const acked = await publishing;
    assert.equal(acked.size, 5000);
    await waitUntil(() => uniqueIds(receiver).size >= 5000, 180_000, 'every acknowledged event');
    const got = uniqueIds(receiver);
    for (const id of acked) assert.ok(got.has(id), `acknowledged ${id} was never received`);
    assert.ok(atKill < 5000, `the kill came mid-load (${atKill} received by then)`);
    p.child.kill('SIGTERM');
    await p.exited;
  });

  it(
    'PostgreSQL: the deliveries of a worker killed with SIGKILL flow again from another worker long before their leases run out',
    { skip: !process.env.HERALD_TEST_DATABASE_URL },
    async () => {
      const created = await createPostgresDatabase();
      cleanups.push(() => created.drop());
      const receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      // Leases of 10 minutes: only the heartbeat watch can free the killed worker's
      // deliveries within this test's time (its safety net is 2 minutes).
      const db = {
        DATABASE_URL: created.url,
        HERALD_DATA_DIR: mkdtempSync(join(tmpdir(), 'herald-heartbeat-')),
        HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        HERALD_LEASE_SECONDS: '600',
        HERALD_HEARTBEAT_SECONDS: '1',
      };
      cleanups.push(() => rmSync(db.HERALD_DATA_DIR, { recursive: true, force: true }));
      const api = start(['api'], { ...db, PORT: String(port) });
      await waitForHttp(`${base}/readyz`, undefined, api);
      const org = await subscribe(base, receiver);
      receiver.reset();

      // The first worker gets the deliveries and never hears back: the receiver holds them.
      let holding = true;
      const held: (() => void)[] = [];
      receiver.respondWith(async () => {
        if (holding) await new Promise<void>((r) => held.push(r));
        return { status: 200 };
      });
      const first = start(['worker'], db);
      const acked = await publishAll(() => base, org, 20, 4);
      await waitUntil(() => held.length >= 8, 120_000, 'the first worker to have deliveries in flight');
      await kill9(first);
      // Requests of the killed worker were received but never answered: count only what
      // arrives from now on.
      const fromKill = receiver.requests.length;
      holding = false;
      for (const r of held) r();
      const afterKill = () => new Set(receiver.requests.slice(fromKill).map((q) => q.headers['webhook-id'] as string));

      const second = start(['worker'], db);
      await waitUntil(() => afterKill().size >= 20, 120_000, 'every event delivered by the second worker');
      for (const id of acked) assert.ok(afterKill().has(id), `${id} was not delivered after the kill`);
      assert.match(second.output(), /released the deliveries of workers whose heartbeats stopped/);
      for (const p of [api, second]) p.child.kill('SIGTERM');
      await Promise.all([api.exited, second.exited]);
    },
  );

  it('PostgreSQL: kill -9 of a worker mid-load loses nothing; two workers never run one delivery at once', { skip: !process.env.HERALD_TEST_DATABASE_URL }, async () => {
    const created = await createPostgresDatabase();
    cleanups.push(() => created.drop());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    // Track requests in flight per message: a second one arriving while the first is
    // open means two workers ran the same delivery at the same time.
    const open = new Map<string, number>();
    let overlaps = 0;
    receiver.respondWith(async (req) => {
      const id = req.headers['webhook-id'] as string;
      const n = (open.get(id) ?? 0) + 1;
      open.set(id, n);
      if (n > 1) overlaps++;
      await new Promise((r) => setTimeout(r, 3));
      open.set(id, open.get(id)! - 1);
      return { status: 200 };
    });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-pg-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = { DATABASE_URL: created.url, HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const api = start(['api'], { ...db, PORT: String(port) });
    await waitForHttp(`${base}/readyz`, undefined, api);
    const org = await subscribe(base, receiver);
    receiver.requests.length = 0;

    let w1 = start(['worker'], db);
    const w2 = start(['worker'], db);
    const publishing = publishAll(() => base, org, 5000, 16);
    await waitUntil(() => uniqueIds(receiver).size >= 1000, 120_000, '1,000 deliveries before the kill');
    await kill9(w1);
    w1 = start(['worker'], db);
    const acked = await publishing;
    await waitUntil(() => uniqueIds(receiver).size >= 5000, 180_000, 'every acknowledged event');
    const got = uniqueIds(receiver);
    for (const id of acked) assert.ok(got.has(id), `acknowledged ${id} was never received`);
    assert.equal(overlaps, 0, 'a delivery was attempted by two workers at the same time');

    // The attempts table agrees: no delivery has two attempts whose times overlap.
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: created.url });
    await c.connect();
    const r = await c.query(`
      select count(*)::int as n from attempts a join attempts b
        on a.delivery_id = b.delivery_id and a.id < b.id
       and b.started_at < a.started_at + (a.latency_ms || ' milliseconds')::interval`);
    await c.end();
    assert.equal(r.rows[0].n, 0);
    for (const p of [api, w1, w2]) p.child.kill('SIGTERM');
    await Promise.all([api.exited, w1.exited, w2.exited]);
  });
});
