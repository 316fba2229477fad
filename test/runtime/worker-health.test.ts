// A worker-only process (`herald worker`) answers /healthz, /readyz and /metrics on its
// own port, its delivery counters included (issue 13 item 7), and runs none when the
// setting is `off`.
import assert from 'node:assert/strict';
import { VERSION } from '../../src/runtime/version.js';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { loadConfig } from '../../src/config.js';
import { makeLogger } from '../../src/logger.js';
import { startHerald, type RunningHerald } from '../../src/runtime/start-herald.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const log = makeLogger({ logLevel: 'silent', logFormat: 'json' });

for (const backend of testDatabases()) {
  describe(`worker-only health and metrics: ${backend.name}`, () => {
    let api: TestHerald;
    let worker: RunningHerald;
    let receiver: TestReceiver;
    before(async () => {
      api = await startTestHerald(backend); // the API, on the test database
      receiver = await startReceiver();
      // The worker role alone, on the same database, with its listener on a free port.
      worker = await startHerald({
        config: loadConfig({}, { encryptionKey: api.config.encryptionKey, workerHealthPort: 0, logLevel: 'silent', allowInsecureDestinations: true, pollIntervalMs: 100 }),
        roles: { api: false, worker: true },
        log,
        db: api.testDb.db,
      });
    });
    after(async () => {
      await worker.close();
      await api.stop();
      await receiver.close();
    });

    it('answers probes, and exports the delivery counters of the deliveries it made', async () => {
      assert.ok(worker.opsUrl, 'a worker-only process has a health listener');
      assert.equal(worker.url, undefined, 'and no API');
      assert.deepEqual(await (await fetch(`${worker.opsUrl}/healthz`)).json(), { status: 'ok' });
      assert.equal((await fetch(`${worker.opsUrl}/readyz`)).status, 200);
      assert.equal((await fetch(`${worker.opsUrl}/organizations/self/subscriptions`)).status, 404, 'nothing but the probes');

      const cred = await createCredential(api, ['READ:FINANCE']);
      const sub = await api.request('/organizations/self/subscriptions', {
        method: 'POST',
        headers: { authorization: cred.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ uuid: uuidv1(), transportName: 'WEBHOOK', eventNames: ['PaymentCreated'], destination: receiver.url, contactEmail: 'a@b.se' }),
      });
      assert.equal(sub.status, 200);
      const published = await api.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName: 'PaymentCreated', payload: { amount: 1 } }),
      });
      assert.equal(published.status, 202);
      worker.worker!.wake();
      await receiver.waitFor(2); // the TestMessage, and the event the worker delivered
      await worker.worker!.idle();
      const text = await (await fetch(`${worker.opsUrl}/metrics`)).text();
      const attempts = /^herald_delivery_attempts_total\{[^}]*outcome="delivered"[^}]*\} (\d+)/m.exec(text);
      assert.ok(attempts && Number(attempts[1]) >= 1, text.split('\n').filter((l) => l.startsWith('herald_delivery')).join('\n'));
      assert.match(text, /^herald_deliveries_pending /m);
      // What this process runs.
      assert.match(text, new RegExp(`^herald_build_info\\{version="${VERSION.replaceAll('.', '\\.')}",node="${process.versions.node.replaceAll('.', '\\.')}",database="${backend.name}",roles="worker"\\} 1$`, 'm'));
    });

    it('runs no listener when the setting is off', async () => {
      const quiet = await startHerald({
        config: loadConfig({ HERALD_WORKER_HEALTH_PORT: 'off' }, { logLevel: 'silent', encryptionKey: api.config.encryptionKey }),
        roles: { api: false, worker: true },
        log,
        db: api.testDb.db,
      });
      try {
        assert.equal(quiet.opsUrl, undefined);
      } finally {
        await quiet.close();
      }
    });
  });
}
