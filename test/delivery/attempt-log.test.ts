// One structured log line per delivery attempt (HERALD_ATTEMPT_LOG_LEVEL, info by
// default): what an operator greps for, and never a key, a header or a body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { captureLog } from '../helpers/log.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const pglite = testDatabases().find((b) => b.name === 'pglite')!;

for (const level of ['info', 'off'] as const) {
  describe(`a log line per delivery attempt: HERALD_ATTEMPT_LOG_LEVEL=${level}`, () => {
    const { log, lines, raw } = captureLog();
    let h: TestHerald;
    let receiver: TestReceiver;
    let cred: TestCredential;
    let signingKey: string;
    let uuid: string;

    before(async () => {
      receiver = await startReceiver();
      h = await startTestHerald(pglite, {
        roles: { api: true, worker: true },
        log,
        config: { pollIntervalMs: 60_000, attemptLogLevel: level, retrySchedule: [60] },
      });
      cred = await createCredential(h, ALL_SCOPES);
      const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['PaymentCreated'],
        destination: `${receiver.url}/hook`,
        contactEmail: 'log@example.com',
      });
      ({ uuid, signingKey } = (await res.json()) as { uuid: string; signingKey: string });
    });
    after(async () => {
      await h?.stop();
      await receiver?.close();
    });

    it(level === 'info' ? 'logs each attempt, a success and a failure, with what it was and how it went' : 'logs no attempt', async () => {
      for (const status of [200, 503]) {
        receiver.reset();
        receiver.respondWith(status);
        await h.admin(`/admin/organizations/${cred.organizationUuid}/events`, { method: 'POST', body: JSON.stringify({ eventName: 'PaymentCreated', payload: { status } }) });
        h.worker!.wake();
        await receiver.waitFor(1);
        await h.worker!.idle();
      }
      const attempts = lines.filter((l) => l.msg === 'delivery attempt');
      assert.ok(!raw().includes(signingKey), 'the signing key is never logged');
      if (level === 'off') {
        assert.equal(attempts.length, 0);
        return;
      }
      assert.equal(attempts.length, 2, JSON.stringify(attempts));
      const [ok, failed] = attempts;
      for (const a of attempts) {
        assert.equal(a.level, 30);
        assert.equal(a.subscription, uuid);
        assert.equal(a.event, 'PaymentCreated');
        assert.equal(a.origin, receiver.origin);
        assert.equal(a.attempt, 1);
        assert.equal(typeof a.latencyMs, 'number');
      }
      assert.deepEqual([ok!.status, ok!.errorClass, ok!.outcome], [200, null, 'delivered']);
      assert.deepEqual([failed!.status, failed!.errorClass, failed!.outcome], [503, 'http_status', 'retry']);
      assert.equal(typeof failed!.retryAt, 'string');
    });
  });
}
