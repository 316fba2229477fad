// The Inventory API's payment-terminals resource: one test per validation rule (a clear
// 4xx in Betterez's error body, nothing changed), the events of create/update/delete,
// scoping by organization. Bodies travel as Betterez's clients send and read them:
// `{"paymentTerminal": {...}}` (docs/compatibility.md).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { eventsOf, snapshot, startBusinessHerald, type BusinessHerald } from './setup.js';

const TERMINAL = {
  name: 'Terminal 1',
  protocol: 'ws',
  ip: '192.168.10.10',
  locationId: '5f243d100617680712e78dd7',
  partNumber: 'TRD30110877A',
  serialNumber: 'SN12345',
};

interface Terminal {
  _id: string;
  accountId: string;
  name: string;
  createdBy: string;
  updatedBy: string;
  createdAt: { value: string; offset: number };
  updatedAt: { value: string; offset: number };
}
interface ErrorBody {
  code: string;
  message: string;
  developerMessage: string;
  errorType: string;
  violations: { propertyName: string; developerMessage: string }[];
}

for (const backend of testDatabases()) {
  describe(`payment terminals: ${backend.name}`, () => {
    let b: BusinessHerald;
    let existing: Terminal;
    /** A call with the body wrapped in `paymentTerminal` and the answer's terminal unwrapped. */
    async function term<T = Terminal>(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
      const r = await b.call<{ paymentTerminal: T }>(method, path, body === undefined ? undefined : { paymentTerminal: body }, headers);
      return { status: r.status, body: r.body.paymentTerminal, raw: r.body as unknown };
    }
    before(async () => {
      b = await startBusinessHerald(backend);
    });
    after(() => b.stop());
    beforeEach(async () => {
      await b.h.db.query('delete from payment_terminals');
      await b.h.db.query('delete from events');
      const r = await term('POST', '/payment-terminals', TERMINAL);
      assert.equal(r.status, 200, JSON.stringify(r.raw));
      existing = r.body;
    });

    /** Sends a request that must fail with `status`, and checks nothing changed. */
    async function rejected(method: string, path: string, body: unknown, status: number, propertyName: string | null): Promise<ErrorBody> {
      const before = await snapshot(b.h.db);
      const r = await b.call<ErrorBody>(method, path, body === undefined ? undefined : { paymentTerminal: body });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body).sort(), ['code', 'developerMessage', 'errorType', 'message', 'violations']);
      assert.equal(r.body.code, r.body.errorType);
      assert.equal(r.body.message, r.body.developerMessage);
      if (propertyName !== null) {
        // Violations name the field as the body has it: paymentTerminal.<field>.
        const expected = propertyName === 'paymentTerminalId' ? propertyName : `paymentTerminal.${propertyName}`;
        assert.ok(
          r.body.violations.some((v) => v.propertyName === expected),
          `a violation names ${propertyName}: ${JSON.stringify(r.body)}`,
        );
      }
      assert.deepEqual(await snapshot(b.h.db), before, 'nothing changed');
      return r.body;
    }

    it('create: server-set fields, BzDates, 24-hex ids; accountId is the organization\'s, createdBy the user\'s', async () => {
      assert.match(existing._id, /^[0-9a-f]{24}$/);
      const org = (await b.h.admin(`/admin/organizations/${b.org}`).then((r) => r.json())) as { accountId: string };
      assert.equal(existing.accountId, org.accountId);
      assert.match(existing.createdBy, /^[0-9a-f]{24}$/);
      assert.equal(existing.updatedBy, existing.createdBy);
      assert.deepEqual(existing.createdAt, { value: '2018-01-17T09:02:27Z', offset: 0 });
      assert.deepEqual(existing.updatedAt, existing.createdAt);
      const events = await eventsOf(b.h.db, b.org);
      assert.deepEqual(
        events.map((e) => [e.event_name, e.payload]),
        [['paymentTerminals.created', existing]],
      );
      assert.match(events[0]!.message_id, /^[0-9a-f]{24}$/);
    });

    it('server-set fields sent by the client are ignored', async () => {
      const r = await term('POST', '/payment-terminals', {
        ...TERMINAL,
        name: 'Other',
        _id: 'ffffffffffffffffffffffff',
        accountId: 'eeeeeeeeeeeeeeeeeeeeeeee',
      });
      assert.equal(r.status, 200);
      assert.notEqual(r.body._id, 'ffffffffffffffffffffffff');
      assert.equal(r.body.accountId, existing.accountId);
    });

    it('rule: the id in the path must be 24 hex (400 INVALID_PAYMENT_TERMINAL_ID), on GET, PUT and DELETE', async () => {
      for (const [method, body] of [['GET', undefined], ['PUT', { ...TERMINAL, name: 'X' }], ['DELETE', undefined]] as const) {
        const e = await rejected(method, '/payment-terminals/not-an-id', body, 400, 'paymentTerminalId');
        assert.equal(e.code, 'INVALID_PAYMENT_TERMINAL_ID');
      }
    });

    it('an invalid terminal is 400 WRONG_DATA; a body without the paymentTerminal wrapper is 400 too', async () => {
      const e = await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', protocol: 'http' }, 400, 'protocol');
      assert.equal(e.code, 'WRONG_DATA');
      const before = await snapshot(b.h.db);
      const bare = await b.call<ErrorBody>('POST', '/payment-terminals', { ...TERMINAL, name: 'Bare' });
      assert.equal(bare.status, 400);
      assert.ok(bare.body.violations.some((v) => v.propertyName === 'paymentTerminal'), JSON.stringify(bare.body));
      assert.deepEqual(await snapshot(b.h.db), before);
    });

    it('rule: name unique within the account (409 naming the clash), on create and on update', async () => {
      const e = await rejected('POST', '/payment-terminals', { ...TERMINAL, serialNumber: 'SN2' }, 409, 'name');
      assert.equal(e.errorType, 'PAYMENT_TERMINAL_NAME_ALREADY_EXISTS');
      assert.match(e.developerMessage, /"Terminal 1"/);
      assert.match(e.developerMessage, new RegExp(existing._id));
      const other = await term('POST', '/payment-terminals', { ...TERMINAL, name: 'Terminal 2' });
      assert.equal(other.status, 200);
      await rejected('PUT', `/payment-terminals/${other.body._id}`, TERMINAL, 409, 'name');
      // Keeping its own name is no clash.
      assert.equal((await term('PUT', `/payment-terminals/${existing._id}`, TERMINAL)).status, 200);
    });

    it('rule: protocol is ws or wss', async () => {
      const e = await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', protocol: 'http' }, 400, 'protocol');
      assert.match(e.developerMessage, /ws/);
      await rejected('PUT', `/payment-terminals/${existing._id}`, { ...TERMINAL, protocol: 'WSS' }, 400, 'protocol');
      assert.equal((await term('POST', '/payment-terminals', { ...TERMINAL, name: 'N', protocol: 'wss' })).status, 200);
    });

    it('rule: ip is a valid IPv4 or IPv6 address', async () => {
      for (const ip of ['192.168.10.256', 'terminal.local', '', '1.2.3', '::g']) {
        await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', ip }, 400, 'ip');
      }
      await rejected('PUT', `/payment-terminals/${existing._id}`, { ...TERMINAL, ip: '10.0.0' }, 400, 'ip');
      assert.equal((await term('POST', '/payment-terminals', { ...TERMINAL, name: 'N6', ip: 'fe80::1' })).status, 200);
    });

    it('rule: locationId is 24 hex', async () => {
      for (const locationId of ['5f243d100617680712e78dd', '5f243d100617680712e78ddz', '']) {
        await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', locationId }, 400, 'locationId');
      }
    });

    it('rule: partNumber starts with TRD', async () => {
      const e = await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', partNumber: 'XRD30110877A' }, 400, 'partNumber');
      assert.match(e.developerMessage, /TRD/);
      await rejected('PUT', `/payment-terminals/${existing._id}`, { ...TERMINAL, partNumber: 'trd1' }, 400, 'partNumber');
    });

    it('rule: serialNumber is required (missing or empty)', async () => {
      const { serialNumber: _omit, ...without } = TERMINAL;
      await rejected('POST', '/payment-terminals', { ...without, name: 'N' }, 400, 'serialNumber');
      await rejected('POST', '/payment-terminals', { ...TERMINAL, name: 'N', serialNumber: '  ' }, 400, 'serialNumber');
      await rejected('PUT', `/payment-terminals/${existing._id}`, without, 400, 'serialNumber');
    });

    it('several broken rules are all named at once', async () => {
      const e = await rejected('POST', '/payment-terminals', { ...TERMINAL, protocol: 'tcp', ip: 'x', partNumber: 'A' }, 400, 'ip');
      assert.deepEqual(e.violations.map((v) => v.propertyName).sort(), ['paymentTerminal.ip', 'paymentTerminal.partNumber', 'paymentTerminal.protocol']);
    });

    it('update: replaces the fields, keeps createdAt, moves updatedAt, emits paymentTerminals.updated with the full terminal', async () => {
      b.clock.advance(90_000);
      const r = await term<Terminal & { ip: string }>('PUT', `/payment-terminals/${existing._id}`, { ...TERMINAL, ip: '::1' });
      assert.equal(r.status, 200);
      assert.equal(r.body.ip, '::1');
      assert.deepEqual(r.body.createdAt, existing.createdAt);
      assert.deepEqual(r.body.updatedAt, { value: '2018-01-17T09:03:57Z', offset: 0 });
      const events = await eventsOf(b.h.db, b.org, 'paymentTerminals.updated');
      assert.deepEqual(events.map((e) => e.payload), [r.body]);
      assert.deepEqual((await term('GET', `/payment-terminals/${existing._id}`)).body, r.body);
    });

    it('delete: 200 {paymentTerminalId}, gone, emits paymentTerminals.deleted {paymentTerminalId}; again 404 with no event', async () => {
      const del = await b.call('DELETE', `/payment-terminals/${existing._id}`);
      assert.equal(del.status, 200);
      assert.deepEqual(del.body, { paymentTerminalId: existing._id });
      assert.equal((await b.call('GET', `/payment-terminals/${existing._id}`)).status, 404);
      const events = await eventsOf(b.h.db, b.org, 'paymentTerminals.deleted');
      assert.deepEqual(events.map((e) => e.payload), [{ paymentTerminalId: existing._id }]);
      const e = await rejected('DELETE', `/payment-terminals/${existing._id}`, undefined, 404, null);
      assert.equal(e.errorType, 'PAYMENT_TERMINAL_NOT_FOUND');
      // The name is free again.
      assert.equal((await term('POST', '/payment-terminals', TERMINAL)).status, 200);
    });

    it('list: {paymentTerminals, next, previous, count}, paged with page and pageSize', async () => {
      for (const n of [2, 3, 4, 5]) assert.equal((await term('POST', '/payment-terminals', { ...TERMINAL, name: `T${n}` })).status, 200);
      const all = await b.call<{ paymentTerminals: Terminal[]; next: string; previous: string; count: number }>('GET', '/payment-terminals');
      assert.deepEqual(Object.keys(all.body).sort(), ['count', 'next', 'paymentTerminals', 'previous']);
      assert.equal(all.body.count, 5);
      assert.equal(all.body.paymentTerminals.length, 5);
      assert.deepEqual([all.body.next, all.body.previous], ['', '']);
      const page2 = await b.call<{ paymentTerminals: Terminal[]; next: string; previous: string; count: number }>(
        'GET',
        '/payment-terminals?page=2&pageSize=2',
      );
      assert.deepEqual(
        page2.body.paymentTerminals.map((t) => t._id),
        all.body.paymentTerminals.slice(2, 4).map((t) => t._id),
      );
      assert.equal(page2.body.count, 5);
      assert.equal(page2.body.next, `${b.h.url}/payment-terminals?page=3&pageSize=2`);
      assert.equal(page2.body.previous, `${b.h.url}/payment-terminals?page=1&pageSize=2`);
      // Following next reaches the last page, whose next is "".
      const last = await b.call<{ paymentTerminals: Terminal[]; next: string }>('GET', page2.body.next.slice(b.h.url.length));
      assert.equal(last.body.paymentTerminals.length, 1);
      assert.equal(last.body.next, '');
      const past = await b.call<{ paymentTerminals: Terminal[]; count: number }>('GET', '/payment-terminals?page=9&pageSize=2');
      assert.deepEqual([past.body.paymentTerminals, past.body.count], [[], 5]);
      const tooBig = await b.call<ErrorBody>('GET', '/payment-terminals?pageSize=100000');
      assert.equal(tooBig.status, 400);
      assert.equal(tooBig.body.code, 'VALIDATION_ERROR');
    });

    it('list and get are confined to the credential\'s organization', async () => {
      const list = await b.call<{ paymentTerminals: Terminal[] }>('GET', '/payment-terminals');
      assert.deepEqual(list.body.paymentTerminals.map((t) => t._id), [existing._id]);
      const otherOrg = (await b.h
        .admin('/admin/organizations', { method: 'POST', body: JSON.stringify({ name: 'Other' }) })
        .then((r) => r.json())) as { organizationUuid: string };
      const key = (await b.h
        .admin(`/admin/organizations/${otherOrg.organizationUuid}/api-keys`, {
          method: 'POST',
          body: JSON.stringify({ name: 'k', scopes: ['READ:PAYMENT_TERMINAL', 'WRITE:PAYMENT_TERMINAL'] }),
        })
        .then((r) => r.json())) as { apiKey: string };
      const as = (method: string, path: string, body?: unknown) =>
        b.h.request(path, {
          method,
          headers: { authorization: `Bearer ${key.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify({ paymentTerminal: body }) : undefined,
        });
      assert.deepEqual(await (await as('GET', '/payment-terminals')).json(), { paymentTerminals: [], next: '', previous: '', count: 0 });
      assert.equal((await as('GET', `/payment-terminals/${existing._id}`)).status, 404);
      assert.equal((await as('DELETE', `/payment-terminals/${existing._id}`)).status, 404);
      // Names are unique per account: the other organization may use the same one.
      assert.equal((await as('POST', '/payment-terminals', TERMINAL)).status, 200);
    });

    it('scopes: READ:PAYMENT_TERMINAL reads, WRITE:PAYMENT_TERMINAL changes; 401 without a credential', async () => {
      const reader = await b.credential(['READ:PAYMENT_TERMINAL']);
      const as = (method: string, path: string, body?: unknown) =>
        b.h.request(path, {
          method,
          headers: { authorization: `Bearer ${reader}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify({ paymentTerminal: body }) : undefined,
        });
      assert.equal((await as('GET', '/payment-terminals')).status, 200);
      const denied = await as('POST', '/payment-terminals', { ...TERMINAL, name: 'N' });
      assert.equal(denied.status, 403);
      assert.equal(((await denied.json()) as ErrorBody).errorType, 'INSUFFICIENT_SCOPE');
      assert.equal((await b.h.request('/payment-terminals')).status, 401);
    });

    it('a test-mode credential\'s events have livemode false', async () => {
      const testKey = await b.credential(['WRITE:PAYMENT_TERMINAL'], false);
      const r = await b.h.request('/payment-terminals', {
        method: 'POST',
        headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ paymentTerminal: { ...TERMINAL, name: 'Test mode' } }),
      });
      assert.equal(r.status, 200);
      const events = await eventsOf(b.h.db, b.org, 'paymentTerminals.created');
      assert.deepEqual(events.map((e) => e.livemode), [true, false]);
    });
  });
}
