// Betterez's own API client (btrz-api-client), as it calls the Inventory API's
// payment-terminals resource and the webhooks' undelivered endpoints: reads with only
// `x-api-key`, writes with `x-api-key` and `authorization: Bearer <jwt>`, bodies wrapped
// in `paymentTerminal`, `Accept: application/json`, answers read as
// `{paymentTerminal}`, `{paymentTerminals, next, previous, count}`, `{paymentTerminalId}`,
// errors read by `code`. A client given only a base URL calls `/payment-terminals`; one
// keeping the production inventory prefix calls `/inventory/payment-terminals`: both work.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import { checkInventoryRequest, eventNameOf, startWebhookEnv, type WebhookEnv } from '../helpers/webhooks.js';

interface Terminal {
  _id: string;
  name: string;
  ip: string;
}
interface BtrzError {
  code: string;
  message: string;
}

/** The calls of btrz-api-client's inventory.paymentTerminals and webhooks.undelivered, over fetch. */
function btrzClient(baseURL: string, token: string, jwtToken: string) {
  async function request<T>(method: string, path: string, opts: { jwt?: boolean; data?: unknown; query?: Record<string, string> } = {}) {
    const url = new URL(`${baseURL}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': token };
    if (opts.jwt) headers.authorization = `Bearer ${jwtToken}`;
    if (opts.data !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: opts.data === undefined ? undefined : JSON.stringify(opts.data) });
    const text = await res.text();
    return { status: res.status, data: (text === '' ? undefined : JSON.parse(text)) as T };
  }
  return {
    paymentTerminals: {
      all: (query: Record<string, string> = {}) =>
        request<{ paymentTerminals: Terminal[]; next: string; previous: string; count: number }>('GET', '/payment-terminals', { query }),
      get: (id: string) => request<{ paymentTerminal: Terminal }>('GET', `/payment-terminals/${id}`),
      create: (paymentTerminal: unknown) => request<{ paymentTerminal: Terminal }>('POST', '/payment-terminals', { jwt: true, data: { paymentTerminal } }),
      update: (id: string, paymentTerminal: unknown) =>
        request<{ paymentTerminal: Terminal }>('PUT', `/payment-terminals/${id}`, { jwt: true, data: { paymentTerminal } }),
      remove: (id: string) => request<{ paymentTerminalId: string }>('DELETE', `/payment-terminals/${id}`, { jwt: true }),
    },
    undelivered: {
      all: (query: Record<string, string> = {}) =>
        request<{ undelivered: { _id: string; event: string; eventId: string; reason: string | null }[]; count: number; next: string }>(
          'GET',
          '/undelivered',
          { jwt: true, query },
        ),
      getById: (id: string) => request<{ undelivered: { _id: string; event: string; state: string } }>('GET', `/undelivered/${id}`),
      resend: (id: string) => request<{ resent: number }>('PUT', `/undelivered/${id}/retry`, { jwt: true }),
      resendAll: () => request<{ resent: number }>('PUT', '/undelivered/retry-all', { jwt: true }),
    },
  };
}

const TERMINAL = {
  name: 'Terminal 1',
  protocol: 'ws',
  ip: '192.168.10.10',
  locationId: '5f243d100617680712e78dd7',
  partNumber: 'TRD30110877A',
  serialNumber: 'SN12345',
};

for (const backend of testDatabases()) {
  describe(`btrz-api-client: ${backend.name}`, () => {
    let w: WebhookEnv;
    let key: TestCredential;
    let jwt: string;
    before(async () => {
      w = await startWebhookEnv(backend);
      key = await createCredential(
        w.h,
        ['READ:PAYMENT_TERMINAL', 'WRITE:PAYMENT_TERMINAL', 'READ:PRODUCT', 'READ:PURCHASE', 'READ:USERINFO', 'READ:FINANCE'],
        { organizationUuid: w.org },
      );
      const token = await w.h.request('/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: key.apiKey }).toString(),
      });
      jwt = ((await token.json()) as { access_token: string }).access_token;
    });
    after(() => w.stop());

    for (const prefix of ['', '/inventory']) {
      it(`payment terminals at ${prefix || '(no prefix)'}/payment-terminals: create, get, list, update, remove`, async () => {
        const api = btrzClient(`${w.h.url}${prefix}`, key.apiKey, jwt);
        const name = `Terminal ${prefix || 'root'}`;
        const created = await api.paymentTerminals.create({ ...TERMINAL, name });
        assert.equal(created.status, 200, JSON.stringify(created.data));
        const id = created.data.paymentTerminal._id;
        assert.match(id, /^[0-9a-f]{24}$/);

        const got = await api.paymentTerminals.get(id);
        assert.equal(got.status, 200);
        assert.deepEqual(got.data.paymentTerminal, created.data.paymentTerminal);

        const list = await api.paymentTerminals.all({ page: '1' });
        assert.equal(list.status, 200);
        assert.ok(list.data.paymentTerminals.some((t) => t._id === id));
        assert.equal(typeof list.data.count, 'number');
        assert.equal(typeof list.data.next, 'string');
        assert.equal(list.data.previous, '');

        const updated = await api.paymentTerminals.update(id, { ...TERMINAL, name, ip: '10.1.1.1' });
        assert.equal(updated.status, 200, JSON.stringify(updated.data));
        assert.equal(updated.data.paymentTerminal.ip, '10.1.1.1');

        const removed = await api.paymentTerminals.remove(id);
        assert.deepEqual([removed.status, removed.data], [200, { paymentTerminalId: id }]);
        const gone = await api.paymentTerminals.get(id);
        assert.equal(gone.status, 404);
        assert.equal((gone.data as unknown as BtrzError).code, 'PAYMENT_TERMINAL_NOT_FOUND');
      });
    }

    it('errors carry Betterez codes: INVALID_PAYMENT_TERMINAL_ID, WRONG_DATA; a wrong x-api-key is 401', async () => {
      const api = btrzClient(w.h.url, key.apiKey, jwt);
      const bad = await api.paymentTerminals.get('1234');
      assert.equal(bad.status, 400);
      const e = bad.data as unknown as BtrzError;
      assert.equal(e.code, 'INVALID_PAYMENT_TERMINAL_ID');
      assert.equal(typeof e.message, 'string');
      const wrong = await api.paymentTerminals.create({ name: 'only a name' });
      assert.equal(wrong.status, 400);
      assert.ok(['WRONG_DATA', 'VALIDATION_ERROR'].includes((wrong.data as unknown as BtrzError).code), JSON.stringify(wrong.data));
      const stranger = btrzClient(w.h.url, 'not-a-key', jwt);
      assert.equal((await stranger.paymentTerminals.all()).status, 401);
      // x-api-key and Bearer of two organizations: refused.
      const other = await createCredential(w.h, ['READ:PAYMENT_TERMINAL', 'WRITE:PAYMENT_TERMINAL']);
      const mixed = btrzClient(w.h.url, other.apiKey, jwt);
      assert.equal((await mixed.paymentTerminals.create({ ...TERMINAL, name: 'Mixed' })).status, 401);
      // A reader's key cannot write, whatever header carries it.
      const reader = await createCredential(w.h, ['READ:PAYMENT_TERMINAL'], { organizationUuid: w.org });
      const readOnly = btrzClient(w.h.url, reader.apiKey, reader.apiKey);
      assert.equal((await readOnly.paymentTerminals.all()).status, 200);
      assert.equal((await readOnly.paymentTerminals.create({ ...TERMINAL, name: 'Denied' })).status, 403);
    });

    it('a delivery of paymentTerminals.created verifies as Betterez signs: HMAC-SHA256 over "<unix>.<raw body>"', async () => {
      const api = btrzClient(w.h.url, key.apiKey, jwt);
      const got = await w.deliveredBy(async () => {
        assert.equal((await api.paymentTerminals.create({ ...TERMINAL, name: 'Signed' })).status, 200);
      });
      const body = checkInventoryRequest(got.find((r) => eventNameOf(r) === 'paymentTerminals.created')!, w.signingKey);
      assert.equal(body.event, 'paymentTerminals.created');
      assert.equal((body.data as { name: string }).name, 'Signed');
    });

    it('undelivered: list, get, retry one, retry all, over the attempt log', async () => {
      const api = btrzClient(w.h.url, key.apiKey, jwt);
      await w.settle();
      w.receiver.respondWith(503);
      try {
        await w.deliveredBy(async () => {
          assert.equal((await api.paymentTerminals.create({ ...TERMINAL, name: 'Undelivered 1' })).status, 200);
          assert.equal((await api.paymentTerminals.create({ ...TERMINAL, name: 'Undelivered 2' })).status, 200);
        });
        const list = await api.undelivered.all({ page: '1', pageSize: '1' });
        assert.equal(list.status, 200, JSON.stringify(list.data));
        assert.equal(list.data.count, 2);
        assert.equal(list.data.undelivered.length, 1);
        assert.notEqual(list.data.next, '');
        const item = list.data.undelivered[0]!;
        assert.equal(item.event, 'paymentTerminals.created');
        assert.match(item._id, /^[0-9a-f]{24}$/);
        assert.match(String(item.reason), /503/);

        const one = await api.undelivered.getById(item._id);
        assert.equal(one.status, 200);
        assert.equal(one.data.undelivered._id, item._id);
        assert.equal((await api.undelivered.getById('ffffffffffffffffffffffff')).status, 404);
        assert.equal(((await api.undelivered.getById('nope')).data as unknown as BtrzError).code, 'INVALID_UNDELIVERED_ID');

        // The receiver recovers: retry one, then all.
        w.receiver.respondWith(200);
        const retried = await w.deliveredBy(async () => {
          const r = await api.undelivered.resend(item._id);
          assert.deepEqual([r.status, r.data], [200, { resent: 1 }]);
        });
        assert.equal(retried.filter((r) => eventNameOf(r) === 'paymentTerminals.created').length, 1);
        assert.equal((await api.undelivered.all()).data.count, 1);
        const rest = await w.deliveredBy(async () => {
          const r = await api.undelivered.resendAll();
          assert.deepEqual([r.status, r.data], [200, { resent: 1 }]);
        });
        assert.equal(rest.filter((r) => eventNameOf(r) === 'paymentTerminals.created').length, 1);
        assert.equal((await api.undelivered.all()).data.count, 0);
      } finally {
        w.receiver.respondWith(200);
      }
    });

    it('undelivered shows only what the credential may see: its organization, its mode, its scopes', async () => {
      await w.settle();
      w.receiver.respondWith(503);
      try {
        await w.deliveredBy(async () => {
          const p = await w.call('POST', '/organizations/self/products', { name: 'Hidden', variants: [{ name: 'V', price: { amount: 1, currencyId: 'SEK' } }] });
          assert.equal(p.status, 201);
        });
        const mine = btrzClient(w.h.url, key.apiKey, jwt);
        assert.ok((await mine.undelivered.all()).data.count >= 1);
        // Another organization sees none of it.
        const other = await createCredential(w.h, ['READ:PRODUCT', 'READ:PAYMENT_TERMINAL']);
        const theirs = btrzClient(w.h.url, other.apiKey, other.apiKey);
        assert.equal((await theirs.undelivered.all()).data.count, 0);
        const id = (await mine.undelivered.all()).data.undelivered[0]!._id;
        assert.equal((await theirs.undelivered.getById(id)).status, 404);
        assert.equal((await theirs.undelivered.resend(id)).status, 404);
        // A key without the subscription's scopes (the all-events subscription needs every scope) sees none.
        const narrow = await createCredential(w.h, ['READ:PAYMENT_TERMINAL'], { organizationUuid: w.org });
        assert.equal((await btrzClient(w.h.url, narrow.apiKey, narrow.apiKey).undelivered.all()).data.count, 0);
      } finally {
        w.receiver.respondWith(200);
      }
    });
  });
}
