// Request ids and one log line per request (HERALD_REQUEST_LOG_LEVEL): the caller's
// X-Request-Id when it is a sane token, else a new one, answered and on every line of the
// request; the line names the route pattern, never the raw URL or a credential.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { captureLog } from '../helpers/log.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';

const pglite = testDatabases().find((b) => b.name === 'pglite')!;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const level of ['info', 'off'] as const) {
  describe(`request ids and request logs: HERALD_REQUEST_LOG_LEVEL=${level}`, () => {
    const { log, lines, raw } = captureLog();
    let h: TestHerald;
    let cred: TestCredential;
    before(async () => {
      h = await startTestHerald(pglite, { log, config: { requestLogLevel: level } });
      cred = await createCredential(h, ALL_SCOPES);
    });
    after(() => h?.stop());

    const get = (path: string, requestId?: string) =>
      h.request(path, { headers: { authorization: cred.auth, ...(requestId !== undefined ? { 'x-request-id': requestId } : {}) } });
    const linesOf = (id: string) => lines.filter((l) => l.requestId === id && l.msg === 'request');

    it('answers with the caller\'s request id, or a new one when it is not a sane token', async () => {
      const res = await get(`/organizations/${cred.organizationUuid}/subscriptions`, 'edge-7f3a.1:b');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-request-id'), 'edge-7f3a.1:b');
      for (const bad of ['a b', 'x'.repeat(129), '<script>']) {
        const r = await get('/organizations/self/subscriptions', bad);
        assert.match(r.headers.get('x-request-id')!, UUID, bad);
      }
      assert.match((await get('/organizations/self/subscriptions')).headers.get('x-request-id')!, UUID);
    });

    it(level === 'info' ? 'logs each request once: id, method, route pattern, status, time; no URL, no credential' : 'logs no request line', async () => {
      await get(`/organizations/${cred.organizationUuid}/subscriptions`, 'req-1');
      await get('/organizations/self/subscriptions/not-a-uuid/messages', 'req-2');
      assert.ok(!raw().includes(cred.apiKey) && !raw().includes(cred.auth), 'no credential in the log');
      if (level === 'off') {
        assert.equal(lines.filter((l) => l.msg === 'request').length, 0);
        return;
      }
      // The line is written when the answer has gone out: the client may read it first.
      for (let i = 0; i < 500 && linesOf('req-2').length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const [one] = linesOf('req-1');
      assert.equal(linesOf('req-1').length, 1);
      assert.deepEqual([one!.method, one!.route, one!.status], ['GET', '/organizations/:organizationUuid/subscriptions', 200]);
      assert.equal(typeof one!.ms, 'number');
      assert.ok(!raw().includes(cred.organizationUuid), 'the raw URL (with its ids) is not logged');
      const [two] = linesOf('req-2');
      assert.equal(two!.status, 404);
    });
  });
}
