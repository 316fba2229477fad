// The input rules every route obeys (src/api/plugins/input-rules.ts): text the database
// can store, integers it can hold, bounded nesting and bounded error answers. Each case
// was a 500 (or a 54 MB answer) before; each must be a 4xx with the spec's error body
// that changes nothing, on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { storeDigest } from '../helpers/store-contents.js';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

for (const backend of testDatabases()) {
  describe(`input rules on every route: ${backend.name}`, () => {
    let h: TestHerald;
    let cred: TestCredential;
    let receiver: TestReceiver;
    let subscriptionUuid: string;
    before(async () => {
      h = await startTestHerald(backend);
      cred = await createCredential(h, ALL_SCOPES);
      receiver = await startReceiver();
      subscriptionUuid = uuidv1();
      const r = await h.request('/organizations/self/subscriptions', {
        method: 'POST',
        headers: { authorization: cred.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ uuid: subscriptionUuid, transportName: 'WEBHOOK', eventNames: [], destination: receiver.url, contactEmail: 'a@b.se' }),
      });
      assert.equal(r.status, 200);
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    /** Sends a request that must be a 4xx with the spec's body, and checks nothing changed. */
    async function refused(method: string, path: string, body: string | undefined, opts: { admin?: boolean; status?: number } = {}) {
      const before = await storeDigest(h.db);
      const headers: Record<string, string> = { authorization: opts.admin ? 'Bearer test-admin-token-0123456789abcdef' : cred.auth };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await h.request(path, { method, headers, body });
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      if (opts.status) assert.equal(res.status, opts.status, `${method} ${path}: ${text.slice(0, 300)}`);
      const json = JSON.parse(text) as { developerMessage: unknown; errorType: unknown; violations: unknown[] };
      assert.equal(typeof json.developerMessage, 'string');
      assert.equal(typeof json.errorType, 'string');
      assert.ok(Array.isArray(json.violations));
      assert.ok(text.length < 8192, `a bounded answer: ${text.length} bytes`);
      assert.deepEqual(await storeDigest(h.db), before, `${method} ${path} changed nothing`);
      return json;
    }

    for (const [label, bad] of [['U+0000', NUL], ['a lone surrogate', LONE]] as const) {
      it(`${label} in any stored text is 400, naming the field`, async () => {
        const org = cred.organizationUuid;
        const j = (v: unknown) => JSON.stringify(v);
        const e = await refused('POST', '/admin/organizations', j({ name: bad }), { admin: true, status: 400 });
        assert.deepEqual(e.violations, [{ propertyName: 'name', developerMessage: (e.violations[0] as { developerMessage: string }).developerMessage }]);
        await refused('POST', '/admin/organizations', j({ name: 'ok', details: { city: bad } }), { admin: true, status: 400 });
        await refused('POST', `/admin/organizations/${org}/api-keys`, j({ name: bad, scopes: ['READ:PRODUCT'] }), { admin: true, status: 400 });
        await refused('POST', `/admin/organizations/${org}/app-connections`, j({ clientId: bad, scopes: ['READ:PRODUCT'] }), { admin: true, status: 400 });
        await refused('POST', `/admin/organizations/${org}/events`, j({ eventName: 'PaymentCreated', payload: {}, messageId: bad }), { admin: true, status: 400 });
        await refused('POST', `/admin/organizations/${org}/events`, j({ eventName: 'PaymentCreated', payload: { [bad]: 1 } }), { admin: true, status: 400 });
        await refused('POST', '/organizations/self/products', j({ name: bad, variants: [{ name: 'v', price: { amount: 1, currencyId: 'SEK' } }] }), { status: 400 });
        await refused('POST', '/organizations/self/products', j({ name: 'p', variants: [{ name: bad, price: { amount: 1, currencyId: 'SEK' } }] }), { status: 400 });
        await refused('PUT', '/organizations/self', j({ city: bad }), { status: 400 });
      });
    }

    it('%00 and a lone surrogate as a path id are 400', async () => {
      const base = `/organizations/self/subscriptions/${subscriptionUuid}/messages`;
      await refused('GET', `${base}/%00/attempts`, undefined, { status: 400 });
      await refused('POST', `${base}/%00/resend`, undefined, { status: 400 });
      await refused('GET', `/organizations/self/products/%00`, undefined, { status: 400 });
      await refused('GET', `/payment-terminals/%00`, undefined, { status: 400 });
    });

    it('integers beyond what the store holds are 400, in the query and in bodies', async () => {
      await refused('GET', `/organizations/self/subscriptions/${subscriptionUuid}/messages?before=9223372036854775808`, undefined, { status: 400 });
      await refused('GET', '/organizations/self/purchases?afterPurchaseNumber=9223372036854775808', undefined, { status: 400 });
      await refused('GET', '/payment-terminals?page=99999999999999999999', undefined, { status: 400 });
      const body = JSON.stringify({ name: 'p', variants: [{ name: 'v', price: { amount: 1e20, currencyId: 'SEK' } }] });
      await refused('POST', '/organizations/self/products', body, { status: 400 });
    });

    it('JSON nested 10,000 deep is 400, on any JSON route', async () => {
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      await refused('POST', `/admin/organizations/${cred.organizationUuid}/events`, `{"eventName":"PaymentCreated","payload":${deepObject}}`, { admin: true, status: 400 });
      await refused('PUT', '/organizations/self', deepObject, { status: 400 });
      await refused('POST', '/organizations/self/products', deep, { status: 400 });
      await refused('POST', '/organizations/self/subscriptions', `{"uuid":${deep}}`, { status: 400 });
      await refused('POST', `/admin/organizations/${cred.organizationUuid}/events`, `{"eventName":"PaymentCreated","payload":${deep}}`, { admin: true, status: 400 });
      // Brackets inside strings are text, not nesting.
      const ok = await h.request('/organizations/self/products', {
        method: 'POST',
        headers: { authorization: cred.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: '['.repeat(200) + '\\"', variants: [{ name: 'v', price: { amount: 1, currencyId: 'SEK' } }] }),
      });
      assert.equal(ok.status, 201, await ok.text());
    });

    it('a 300 KB body of 100,000 empty items is refused before validation, with a small answer', async () => {
      const products = `[${Array.from({ length: 100_000 }, () => '{}').join(',')}]`;
      for (const [path, body] of [
        ['/organizations/self/purchases', `{"products":${products}}`],
        ['/organizations/self/products', `{"name":"p","variants":${products}}`],
        ['/organizations/self/inventory/balances', `{"changes":${products}}`],
      ] as const) {
        const method = path.endsWith('balances') ? 'PUT' : 'POST';
        const e = await refused(method, path, body, { status: 400 });
        assert.ok(e.violations.length <= 1, JSON.stringify(e).slice(0, 300));
      }
    });

    it('a credential without the route\'s scope is refused (403) before its body is read', async () => {
      const reader = await createCredential(h, ['READ:PRODUCT'], { organizationUuid: cred.organizationUuid });
      const before = await storeDigest(h.db);
      // Not even valid JSON: the scope check answers first.
      const res = await h.request('/organizations/self/purchases', {
        method: 'POST',
        headers: { authorization: reader.auth, 'content-type': 'application/json' },
        body: '{"products": [ this is not json',
      });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { errorType: string }).errorType, 'INSUFFICIENT_SCOPE');
      // Another organization in the path: 403 before the body too.
      const other = await h.request('/organizations/00000000-0000-1000-8000-000000000000/products', {
        method: 'POST',
        headers: { authorization: cred.auth, 'content-type': 'application/json' },
        body: 'not json',
      });
      assert.equal(other.status, 403);
      assert.deepEqual(await storeDigest(h.db), before);
    });

    it('an answer names at most 10 violations, however many there are', async () => {
      const variants = Array.from({ length: 200 }, () => ({ name: NUL, price: { amount: 1, currencyId: 'SEK' } }));
      const e = await refused('POST', '/organizations/self/products', JSON.stringify({ name: 'p', variants }), { status: 400 });
      assert.ok(e.violations.length <= 10, `${e.violations.length} violations`);
    });
  });
}
