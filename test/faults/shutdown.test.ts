// SIGTERM ends `herald serve` within HERALD_SHUTDOWN_TIMEOUT_MS (plus a short grace for
// closing), even with deliveries to a receiver that never answers and publishers in
// flight (issue 13 item 8), on the embedded database and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createPostgresDatabase, testDatabases } from '../helpers/db.js';
import { startTestHerald } from '../helpers/herald.js';
import { captureLog } from '../helpers/log.js';
import { freePort, runHerald, subscribeToPayments, waitForHttp, type HeraldProcess } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';

const ADMIN = 'shutdown-test-admin-token-0123456789';
const BOUND_MS = 1500;

const backends: { name: string; env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'pglite',
    env: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
      return { env: { HERALD_DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (process.env.HERALD_TEST_DATABASE_URL) {
  backends.push({
    name: 'postgres',
    env: async () => {
      const created = await createPostgresDatabase();
      return { env: { DATABASE_URL: created.url, HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') }, cleanup: () => created.drop() };
    },
  });
}

for (const backend of backends) {
  describe(`shutdown is bounded: ${backend.name}`, () => {
    const running: HeraldProcess[] = [];
    after(() => {
      for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });

    it('SIGTERM with deliveries hanging and publishers in flight ends the process within the bound', async () => {
      const { env, cleanup } = await backend.env();
      const receiver = await startReceiver();
      try {
        // The receiver takes every request and never answers (until the test ends).
        receiver.respondWith(() => ({ status: 200, delayMs: 600_000 }));
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const p = runHerald(['serve'], {
          ...env,
          PORT: String(port),
          HERALD_ADMIN_TOKEN: ADMIN,
          HERALD_ALLOW_INSECURE_DESTINATIONS: 'true',
          HERALD_DELIVERY_TIMEOUT_MS: '120000',
          HERALD_LEASE_SECONDS: '300',
          HERALD_SHUTDOWN_TIMEOUT_MS: String(BOUND_MS),
          HERALD_LOG_LEVEL: 'warn',
        });
        running.push(p);
        await waitForHttp(`${base}/readyz`, undefined, p);
        const admin = (path: string, body: unknown) =>
          fetch(`${base}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        // A subscription inserted directly would skip the TestMessage, which would hang too.
        receiver.respondWith(200);
        const org = await subscribeToPayments(base, ADMIN, receiver.url, 'Shutdown');
        receiver.respondWith(() => ({ status: 200, delayMs: 600_000 }));
        for (let i = 0; i < 20; i++) assert.equal((await admin(`/admin/organizations/${org}/events`, { eventName: 'PaymentCreated', payload: { i } })).status, 202);
        await receiver.waitFor(5); // deliveries are in flight, hanging
        // Publishers keep publishing while the signal arrives.
        let publishing = true;
        const publishers = Array.from({ length: 8 }, async () => {
          while (publishing) await admin(`/admin/organizations/${org}/events`, { eventName: 'PaymentCreated', payload: {} }).catch(() => undefined);
        });
        const sent = Date.now();
        p.child.kill('SIGTERM');
        const code = await p.exited;
        const took = Date.now() - sent;
        publishing = false;
        await Promise.all(publishers);
        assert.ok(code === 0 || code === 1, `exited with ${code}`);
        // The bound plus its 2 s grace, and room for a loaded machine to run the timers.
        assert.ok(took < BOUND_MS + 2000 + 15_000, `SIGTERM took ${took} ms (bound ${BOUND_MS} ms)\n${p.output()}`);
      } finally {
        await receiver.close();
        await cleanup();
      }
    });
  });
}

// A connection opened and never used (HTTP clients open them ahead of need) does not
// hold the API's shutdown: Node counts it as waiting for headers, not idle, and closing
// waited for it until headersTimeout (60 s), far past the shutdown bound.
describe('shutdown does not wait for an unused connection', () => {
  it('closes a connection that never sent a request, within the bound', async () => {
    const logged = captureLog();
    const h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!, { log: logged.log });
    const url = new URL(h.url);
    const idle = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve, reject) => idle.once('connect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    idle.on('error', () => {}); // a reset is a close too
    assert.equal((await h.request('/healthz')).status, 200);
    await h.stop();
    await closed;
    assert.ok(!logged.lines.some((l) => l.msg === 'shutdown bound reached; closing with work in flight'), 'closed before the bound');
  });
});
