// Herald rides out its database going away (issue 13, item 1): a PostgreSQL server of
// this test's own is restarted three times (`pg_ctl restart -m fast`, which terminates
// every connection) and stopped once, under a steady publish load, while a `herald
// serve` process runs on it. Asserted: the process never exits; a request while the
// database is away is a clean 503 with the spec's body; /readyz says not ready, then
// ready; deliveries resume within 10 s of the database returning; every acknowledged
// (202) event reaches the receiver.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, runHerald, subscribeToPayments, waitForHttp, type HeraldProcess } from '../helpers/process.js';
import { canStartPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const ADMIN = 'fault-test-admin-token-0123456789';
const skip = canStartPostgres() ? false : 'initdb/pg_ctl are not on PATH: cannot start a PostgreSQL server to restart';

describe('a PostgreSQL restart under load', { skip }, () => {
  let pg: PostgresServer;
  let herald: HeraldProcess;
  let receiver: TestReceiver;
  let base: string;
  let org: string;
  const received = new Map<string, number>(); // messageId -> when it arrived

  const admin = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    pg = startPostgresServer();
    receiver = await startReceiver();
    receiver.respondWith((r) => {
      const id = (r.json as { messageId?: string } | undefined)?.messageId;
      if (id && !received.has(id)) received.set(id, Date.now());
      return { status: 200 };
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    herald = runHerald(['serve'], {
      DATABASE_URL: pg.url,
      HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PORT: String(port),
      HOST: '127.0.0.1',
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_ALLOW_INSECURE_DESTINATIONS: 'true',
      HERALD_POLL_INTERVAL_MS: '500',
      HERALD_LOG_LEVEL: 'warn',
    });
    await waitForHttp(`${base}/readyz`, undefined, herald);
    org = await subscribeToPayments(base, ADMIN, receiver.url, 'Faults');
  });

  after(async () => {
    herald?.child.kill('SIGKILL');
    await receiver?.close();
    pg?.destroy();
  });

  it('loses nothing acknowledged, never exits, answers 503 while away, resumes within 10 s', async () => {
    const acknowledged = new Set<string>();
    const refusals: string[] = [];
    let n = 0;
    let stopLoad = false;
    /** One publisher: publishes one event after another until told to stop. */
    const publisher = async () => {
      while (!stopLoad) {
        const messageId = `m-${n++}`;
        try {
          const r = await admin(`/admin/organizations/${org}/events`, { eventName: 'PaymentCreated', payload: { n }, messageId });
          const text = await r.text();
          if (r.status === 202) acknowledged.add((JSON.parse(text) as { messageId: string }).messageId);
          else if (r.status >= 500) refusals.push(`${r.status} ${text}`);
        } catch {
          // The connection itself failed (the process is checked below): not acknowledged.
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, publisher));

    /** Waits until the receiver has an event published after `since`, and returns how long that took. */
    const resumed = async (since: number) => {
      const start = Date.now();
      for (;;) {
        if ([...received.values()].some((t) => t > since)) return Date.now() - start;
        if (Date.now() - start > 60_000) throw new Error('deliveries did not resume within 60 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    try {
      for (let round = 0; round < 3; round++) {
        await new Promise((r) => setTimeout(r, 1500)); // load runs against the live database
        pg.restart();
        const back = Date.now();
        const took = await resumed(back);
        assert.ok(took < 10_000, `round ${round}: deliveries resumed ${took} ms after the database returned`);
        assert.equal(herald.child.exitCode, null, `herald exited:\n${herald.output()}`);
      }

      // A longer outage: requests are refused cleanly, readiness says so.
      pg.stop();
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      const refused = await admin(`/admin/organizations/${org}/events`, { eventName: 'PaymentCreated', payload: {}, messageId: 'while-away' });
      assert.equal(refused.status, 503);
      const body = (await refused.json()) as { errorType: string; developerMessage: string; violations: unknown[] };
      assert.equal(body.errorType, 'DATABASE_UNAVAILABLE');
      assert.ok(Array.isArray(body.violations));
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'the process itself is alive');
      pg.start();
      const back = Date.now();
      await waitForHttp(`${base}/readyz`, undefined, herald);
      const took = await resumed(back);
      assert.ok(took < 10_000, `after the outage: deliveries resumed ${took} ms after the database returned`);
    } finally {
      stopLoad = true;
      await load;
    }

    // Everything acknowledged arrives.
    const deadline = Date.now() + 120_000;
    while ([...acknowledged].some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lost = [...acknowledged].filter((id) => !received.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} acknowledged events never arrived`);
    assert.ok(acknowledged.size > 100, `the load published ${acknowledged.size} events`);
    assert.equal(herald.child.exitCode, null, `herald exited:\n${herald.output()}`);
    // Every refusal while the database was away was a 503 with the spec's body.
    for (const r of refusals) assert.match(r, /^503 \{"developerMessage":".*","errorType":"DATABASE_UNAVAILABLE","violations":\[\]\}$/);
  });
});
