// The Pusher API's four response tables (create, list, update, delete), row by row,
// against the real server and a real local receiver, on both databases. Every failed
// create is checked to have stored nothing.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { v1 as uuidv1, v4 as uuidv4, version as uuidVersion } from 'uuid';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { freePort } from '../helpers/process.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

interface ErrorBody {
  developerMessage: string;
  errorType: string;
  violations: { propertyName: string; developerMessage: string }[];
}

const SUBSCRIPTION_FIELDS = ['contactEmail', 'destination', 'eventNames', 'signingKey', 'status', 'transportName', 'updated', 'uuid'];

async function expectError(res: Response, status: number, errorType?: string): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  const body = JSON.parse(text) as ErrorBody;
  assert.deepEqual(Object.keys(body).sort(), ['developerMessage', 'errorType', 'violations']);
  assert.equal(typeof body.developerMessage, 'string');
  assert.ok(Array.isArray(body.violations));
  if (errorType) assert.equal(body.errorType, errorType);
  return body;
}

for (const backend of testDatabases()) {
  describe(`Pusher API subscriptions, spec conformance: ${backend.name}`, () => {
    let h: TestHerald;
    let receiver: TestReceiver;
    let all: TestCredential; // every scope
    let productsOnly: TestCredential; // READ:PRODUCT
    let other: TestCredential; // another organization, every scope
    let call: ReturnType<typeof asCredential>;

    const body = (over: Record<string, unknown> = {}) => ({
      uuid: uuidv1(),
      transportName: 'WEBHOOK',
      eventNames: ['ProductUpdated'],
      destination: receiver.url,
      contactEmail: 'your_email@domain.com',
      ...over,
    });
    const storedCount = async () =>
      (await h.db.query<{ n: number }>('select count(*) as n from subscriptions where deleted_at is null')).rows[0]!.n;
    /** Asserts a failed create stored nothing. */
    async function expectNothingStored(before: number) {
      assert.equal(await storedCount(), before, 'a failed create must store nothing');
    }

    before(async () => {
      h = await startTestHerald(backend);
      receiver = await startReceiver();
      all = await createCredential(h, ALL_SCOPES);
      productsOnly = await createCredential(h, ['READ:PRODUCT'], { organizationUuid: all.organizationUuid });
      other = await createCredential(h, ALL_SCOPES);
      call = asCredential(h, all);
    });
    after(async () => {
      await receiver.close();
      await h.stop();
    });
    beforeEach(() => receiver.reset());

    describe('create: POST /organizations/{organizationUuid}/subscriptions', () => {
      it('200 with every field, after a signed TestMessage reached the destination', async () => {
        const req = body({ eventNames: ['ProductUpdated', 'PurchaseCreated'] });
        const res = await call('POST', '/organizations/self/subscriptions', req);
        assert.equal(res.status, 200);
        const sub = (await res.json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(sub).sort(), SUBSCRIPTION_FIELDS);
        assert.equal(sub.uuid, req.uuid);
        assert.equal(sub.transportName, 'WEBHOOK');
        assert.deepEqual(sub.eventNames, ['ProductUpdated', 'PurchaseCreated']);
        assert.equal(sub.destination, receiver.url);
        assert.equal(sub.contactEmail, 'your_email@domain.com');
        assert.equal(sub.status, 'ACTIVE');
        assert.match(sub.updated as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.match(sub.signingKey as string, /^[A-Za-z0-9]{64}$/);

        assert.equal(receiver.requests.length, 1);
        const test = receiver.requests[0]!;
        assert.equal(test.method, 'POST');
        assert.equal(test.headers['content-type'], 'application/json');
        assert.equal(test.headers['user-agent'], 'PusherApplication (WebHookPushClient)');
        const msg = test.json as Record<string, string>;
        assert.deepEqual(Object.keys(msg).sort(), ['eventName', 'messageId', 'messageUuid', 'organizationUuid', 'payload', 'timestamp']);
        assert.equal(msg.eventName, 'TestMessage');
        assert.equal(msg.organizationUuid, all.organizationUuid);
        assert.equal(msg.payload, '{"data":"payload"}');
        assert.equal(uuidVersion(msg.messageUuid!), 1);
        assert.match(msg.timestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const expected = createHmac('sha256', sub.signingKey as string).update(`${msg.timestamp}.${msg.payload}`).digest('hex');
        assert.equal(test.headers['x-izettle-signature'], expected);
      });

      it('gives every subscription its own signing key', async () => {
        const keys = new Set<string>();
        for (let i = 0; i < 5; i++) {
          const res = await call('POST', '/organizations/self/subscriptions', body());
          keys.add(((await res.json()) as { signingKey: string }).signingKey);
        }
        assert.equal(keys.size, 5);
      });

      it('accepts the organization uuid as well as self, and the fields as query parameters', async () => {
        const b = body();
        const q = new URLSearchParams({
          uuid: b.uuid,
          transportName: 'WEBHOOK',
          destination: b.destination,
          contactEmail: b.contactEmail,
        });
        q.append('eventNames', 'ProductCreated');
        q.append('eventNames', 'ProductDeleted');
        const res = await call('POST', `/organizations/${all.organizationUuid}/subscriptions?${q}`);
        assert.equal(res.status, 200, await res.clone().text());
        assert.deepEqual(((await res.json()) as { eventNames: string[] }).eventNames, ['ProductCreated', 'ProductDeleted']);
      });

      it('an empty eventNames subscribes to every event (with every scope)', async () => {
        const res = await call('POST', '/organizations/self/subscriptions', body({ eventNames: [] }));
        assert.equal(res.status, 200);
        assert.deepEqual(((await res.json()) as { eventNames: string[] }).eventNames, []);
      });

      const bad400: [string, Record<string, unknown>, string][] = [
        ['uuid is missing', { uuid: undefined }, 'uuid'],
        ['transportName is missing', { transportName: undefined }, 'transportName'],
        ['uuid is not a version-1 UUID', { uuid: uuidv4() }, 'uuid'],
        ['uuid is not a UUID', { uuid: 'not-a-uuid' }, 'uuid'],
        ['transportName is not WEBHOOK', { transportName: 'SMS' }, 'transportName'],
        ['an event name is unknown', { eventNames: ['ProductUpdated', 'NoSuchEvent'] }, 'eventNames'],
        ['eventNames is not an array of names', { eventNames: [1, 2] }, 'eventNames'],
      ];
      for (const [why, over, property] of bad400) {
        it(`400 when ${why}`, async () => {
          const n = await storedCount();
          const err = await expectError(await call('POST', '/organizations/self/subscriptions', body(over)), 400, 'VALIDATION_ERROR');
          assert.ok(err.violations.some((v) => v.propertyName === property), JSON.stringify(err));
          assert.equal(receiver.requests.length, 0, 'no test message for an invalid request');
          await expectNothingStored(n);
        });
      }

      it('400 SUBSCRIPTION_ALREADY_EXIST when the uuid exists', async () => {
        const b = body();
        assert.equal((await call('POST', '/organizations/self/subscriptions', b)).status, 200);
        const n = await storedCount();
        await expectError(await call('POST', '/organizations/self/subscriptions', { ...b, eventNames: ['ProductDeleted'] }), 400, 'SUBSCRIPTION_ALREADY_EXIST');
        await expectNothingStored(n);
      });

      it('the same uuid in another organization is its own subscription', async () => {
        const b = body();
        assert.equal((await call('POST', '/organizations/self/subscriptions', b)).status, 200);
        assert.equal((await asCredential(h, other)('POST', '/organizations/self/subscriptions', b)).status, 200);
      });

      it('400 DESTINATION_NOT_ACCESSIBLE when the destination cannot be reached', async () => {
        const n = await storedCount();
        const closed = `http://127.0.0.1:${await freePort()}/hook`;
        await expectError(await call('POST', '/organizations/self/subscriptions', body({ destination: closed })), 400, 'DESTINATION_NOT_ACCESSIBLE');
        await expectError(
          await call('POST', '/organizations/self/subscriptions', body({ destination: 'http://no-such-host.invalid/hook' })),
          400,
          'DESTINATION_NOT_ACCESSIBLE',
        );
        await expectNothingStored(n);
      });

      it('500 DESTINATION_RESPONDED_WITH_ERROR_CODE when the destination answers non-2xx', async () => {
        for (const status of [500, 404, 302]) {
          receiver.respondWith(status);
          const n = await storedCount();
          await expectError(await call('POST', '/organizations/self/subscriptions', body()), 500, 'DESTINATION_RESPONDED_WITH_ERROR_CODE');
          await expectNothingStored(n);
        }
      });

      const bad422: [string, Record<string, unknown>, string][] = [
        ['destination is missing', { destination: undefined }, 'destination'],
        ['contactEmail is missing', { contactEmail: undefined }, 'contactEmail'],
        ['contactEmail is not an address', { contactEmail: 'not-an-email' }, 'contactEmail'],
        ['contactEmail has no domain', { contactEmail: 'someone@' }, 'contactEmail'],
        ['contactEmail is over 512 characters', { contactEmail: `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(60)}.${'h'.repeat(60)}.${'i'.repeat(60)}.com` }, 'contactEmail'],
        ['destination is not a URL', { destination: 'not a url' }, 'destination'],
        ['destination is not HTTP(S)', { destination: 'ftp://example.com/hook' }, 'destination'],
        ['destination is empty', { destination: '' }, 'destination'],
        ['destination holds U+0000', { destination: 'https://example.com/hook\u0000' }, 'destination'],
        ['destination holds a lone surrogate', { destination: 'https://example.com/hook\ud800' }, 'destination'],
        ['destination holds a space', { destination: 'https://example.com/a hook' }, 'destination'],
        ['destination is over 2048 characters', { destination: `https://example.com/${'a'.repeat(2100)}` }, 'destination'],
      ];
      for (const [why, over, property] of bad422) {
        it(`422 when ${why}`, async () => {
          const n = await storedCount();
          const err = await expectError(await call('POST', '/organizations/self/subscriptions', body(over)), 422, 'VALIDATION_ERROR');
          assert.ok(err.violations.some((v) => v.propertyName === property), JSON.stringify(err));
          assert.equal(receiver.requests.length, 0);
          await expectNothingStored(n);
        });
      }

      it('403 when the credential lacks the scope of an event', async () => {
        const n = await storedCount();
        const err = await expectError(
          await asCredential(h, productsOnly)('POST', '/organizations/self/subscriptions', body({ eventNames: ['PurchaseCreated'] })),
          403,
          'INSUFFICIENT_SCOPE',
        );
        assert.match(err.developerMessage, /READ:PURCHASE/);
        await expectNothingStored(n);
      });

      it('403 for an empty eventNames without every scope', async () => {
        const n = await storedCount();
        await expectError(await asCredential(h, productsOnly)('POST', '/organizations/self/subscriptions', body({ eventNames: [] })), 403);
        await expectNothingStored(n);
      });

      it('events that need any scope are open to any credential', async () => {
        const res = await asCredential(h, productsOnly)(
          'POST',
          '/organizations/self/subscriptions',
          body({ eventNames: ['PersonalAssertionDeleted', 'ApplicationConnectionRemoved', 'ProductCreated'] }),
        );
        assert.equal(res.status, 200);
      });

      it('401 without credentials, with an invalid one, or with a revoked key', async () => {
        const n = await storedCount();
        await expectError(await asCredential(h, null)('POST', '/organizations/self/subscriptions', body()), 401);
        await expectError(await call('POST', '/organizations/self/subscriptions', body(), { authorization: 'Bearer not-a-valid-token' }), 401);
        const doomed = await createCredential(h, ALL_SCOPES, { organizationUuid: all.organizationUuid });
        assert.equal((await h.admin(`/admin/organizations/${all.organizationUuid}/api-keys/${doomed.apiKeyId}`, { method: 'DELETE' })).status, 204);
        await expectError(await asCredential(h, doomed)('POST', '/organizations/self/subscriptions', body()), 401);
        await expectNothingStored(n);
      });

      it("403 for another organization's uuid in the path, storing nothing", async () => {
        const n = await storedCount();
        await expectError(await call('POST', `/organizations/${other.organizationUuid}/subscriptions`, body()), 403);
        await expectNothingStored(n);
      });

      it('400 for a body that is not a JSON object', async () => {
        await expectError(await call('POST', '/organizations/self/subscriptions', '[1,2]'), 400);
        await expectError(await call('POST', '/organizations/self/subscriptions', '{"uuid":'), 400);
      });
    });

    describe('list: GET /organizations/{organizationUuid}/subscriptions', () => {
      it("200 with every subscription of the organization, every field, and none of another's", async () => {
        const mine = asCredential(h, other);
        const created = [];
        for (const events of [['ProductUpdated'], ['ProductDeleted'], ['InventoryBalanceChanged', 'ProductCreated']]) {
          const res = await mine('POST', '/organizations/self/subscriptions', body({ eventNames: events }));
          created.push((await res.json()) as Record<string, unknown>);
        }
        const res = await mine('GET', `/organizations/${other.organizationUuid}/subscriptions`);
        assert.equal(res.status, 200);
        const list = (await res.json()) as Record<string, unknown>[];
        for (const s of list) assert.deepEqual(Object.keys(s).sort(), SUBSCRIPTION_FIELDS);
        for (const c of created) assert.deepEqual(list.find((s) => s.uuid === c.uuid), c);
        const theirs = (await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
        for (const c of created) assert.ok(!theirs.some((s) => s.uuid === c.uuid), "another organization's subscription leaked");
      });

      it('401 without credentials', async () => {
        await expectError(await asCredential(h, null)('GET', '/organizations/self/subscriptions'), 401);
      });

      it("403 for another organization's uuid", async () => {
        await expectError(await call('GET', `/organizations/${other.organizationUuid}/subscriptions`), 403);
      });
    });

    describe('update: PUT /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}', () => {
      async function existing(over: Record<string, unknown> = {}) {
        const res = await call('POST', '/organizations/self/subscriptions', body(over));
        assert.equal(res.status, 200);
        return (await res.json()) as { uuid: string; signingKey: string; updated: string };
      }
      const current = async (uuid: string) =>
        ((await (await call('GET', '/organizations/self/subscriptions')).json()) as Record<string, unknown>[]).find((s) => s.uuid === uuid)!;

      it('200 with no body; the fields change, updated moves, the signing key does not', async () => {
        const sub = await existing();
        await new Promise((r) => setTimeout(r, 5));
        const res = await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, {
          eventNames: ['ProductUpdated', 'CardPaymentInvalid'],
          contactEmail: 'new@domain.com',
          transportName: 'WEBHOOK',
        });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), '');
        const now = await current(sub.uuid);
        assert.deepEqual(now.eventNames, ['ProductUpdated', 'CardPaymentInvalid']);
        assert.equal(now.contactEmail, 'new@domain.com');
        assert.equal(now.signingKey, sub.signingKey);
        assert.ok((now.updated as string) > sub.updated, 'updated must change');
      });

      it('every field is optional: an empty body changes only updated', async () => {
        const sub = await existing();
        assert.equal((await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, {})).status, 200);
        const now = await current(sub.uuid);
        assert.deepEqual(now.eventNames, ['ProductUpdated']);
      });

      it('accepts the fields as query parameters', async () => {
        const sub = await existing();
        const res = await call('PUT', `/organizations/self/subscriptions/${sub.uuid}?eventNames=ProductCreated,ProductDeleted`);
        assert.equal(res.status, 200);
        assert.deepEqual((await current(sub.uuid)).eventNames, ['ProductCreated', 'ProductDeleted']);
      });

      it('404 SUBSCRIPTION_NOT_FOUND when it does not exist, or belongs to another organization', async () => {
        await expectError(await call('PUT', `/organizations/self/subscriptions/${uuidv1()}`, { eventNames: ['ProductCreated'] }), 404, 'SUBSCRIPTION_NOT_FOUND');
        await expectError(await call('PUT', `/organizations/self/subscriptions/garbage`, {}), 404, 'SUBSCRIPTION_NOT_FOUND');
        const theirs = (await (await asCredential(h, other)('POST', '/organizations/self/subscriptions', body())).json()) as { uuid: string };
        await expectError(await call('PUT', `/organizations/self/subscriptions/${theirs.uuid}`, {}), 404, 'SUBSCRIPTION_NOT_FOUND');
      });

      it('405 when the subscription uuid is missing from the path', async () => {
        await expectError(await call('PUT', '/organizations/self/subscriptions', { eventNames: ['ProductCreated'] }), 405);
      });

      it('400 for unknown event names, changing nothing', async () => {
        const sub = await existing();
        await expectError(await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { eventNames: ['Nope'] }), 400, 'VALIDATION_ERROR');
        assert.deepEqual((await current(sub.uuid)).eventNames, ['ProductUpdated']);
      });

      for (const [why, destination] of [
        ['empty', ''],
        ['not a valid URL', 'nope'],
        ['not HTTP(S)', 'mailto:a@b.c'],
      ] as const) {
        it(`422 when the destination is ${why}, changing nothing`, async () => {
          const sub = await existing();
          await expectError(await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { destination }), 422);
          assert.equal((await current(sub.uuid)).destination, receiver.url);
        });
      }

      it('422 for an invalid contactEmail', async () => {
        const sub = await existing();
        await expectError(await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { contactEmail: 'x' }), 422);
      });

      it('403 for events whose scope is missing, changing nothing', async () => {
        const sub = await existing();
        await expectError(
          await asCredential(h, productsOnly)('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { eventNames: ['PurchaseCreated'] }),
          403,
          'INSUFFICIENT_SCOPE',
        );
        assert.deepEqual((await current(sub.uuid)).eventNames, ['ProductUpdated']);
      });

      it('401 without credentials', async () => {
        const sub = await existing();
        await expectError(await asCredential(h, null)('PUT', `/organizations/self/subscriptions/${sub.uuid}`, {}), 401);
      });

      it("403 when the credential lacks the scope of the subscription's current events: it cannot redirect them", async () => {
        const sub = await existing({ eventNames: ['PaymentCreated'] });
        await expectError(
          await asCredential(h, productsOnly)('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { destination: 'https://attacker.example/hook' }),
          403,
          'INSUFFICIENT_SCOPE',
        );
        assert.equal((await current(sub.uuid)).destination, receiver.url);
        await expectError(await asCredential(h, productsOnly)('DELETE', `/organizations/self/subscriptions/${sub.uuid}`), 403, 'INSUFFICIENT_SCOPE');
        assert.ok(await current(sub.uuid), 'still there');
      });

      it('a test-mode credential neither sees nor changes live subscriptions', async () => {
        const sub = await existing();
        const testMode = await createCredential(h, ALL_SCOPES, { organizationUuid: all.organizationUuid, livemode: false });
        const t = asCredential(h, testMode);
        const list = (await (await t('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
        assert.ok(!list.some((x) => x.uuid === sub.uuid));
        await expectError(await t('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { eventNames: [] }), 404, 'SUBSCRIPTION_NOT_FOUND');
        await expectError(await t('DELETE', `/organizations/self/subscriptions/${sub.uuid}`), 404, 'SUBSCRIPTION_NOT_FOUND');
        assert.deepEqual((await current(sub.uuid)).eventNames, ['ProductUpdated']);
      });
    });

    describe('delete: DELETE /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}', () => {
      const listed = async (uuid: string) =>
        ((await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[]).some((s) => s.uuid === uuid);

      for (const path of ['', 'uuid/']) {
        it(`204 on /subscriptions/${path}{uuid}, and it is gone`, async () => {
          const sub = (await (await call('POST', '/organizations/self/subscriptions', body())).json()) as { uuid: string };
          const res = await call('DELETE', `/organizations/self/subscriptions/${path}${sub.uuid}`);
          assert.equal(res.status, 204);
          assert.equal(await res.text(), '');
          assert.equal(await listed(sub.uuid), false);
          await expectError(await call('DELETE', `/organizations/self/subscriptions/${path}${sub.uuid}`), 404, 'SUBSCRIPTION_NOT_FOUND');
        });
      }

      it('404 when not found, when the uuid is missing, and for another organization\'s subscription', async () => {
        await expectError(await call('DELETE', `/organizations/self/subscriptions/${uuidv1()}`), 404, 'SUBSCRIPTION_NOT_FOUND');
        await expectError(await call('DELETE', `/organizations/self/subscriptions`), 404);
        const theirs = (await (await asCredential(h, other)('POST', '/organizations/self/subscriptions', body())).json()) as { uuid: string };
        await expectError(await call('DELETE', `/organizations/self/subscriptions/${theirs.uuid}`), 404);
        assert.equal((await asCredential(h, other)('GET', '/organizations/self/subscriptions')).status, 200);
      });

      it('a deleted uuid can be used again', async () => {
        const b = body();
        await call('POST', '/organizations/self/subscriptions', b);
        assert.equal((await call('DELETE', `/organizations/self/subscriptions/${b.uuid}`)).status, 204);
        assert.equal((await call('POST', '/organizations/self/subscriptions', b)).status, 200);
      });

      it('401 without credentials', async () => {
        await expectError(await asCredential(h, null)('DELETE', `/organizations/self/subscriptions/${uuidv1()}`), 401);
      });
    });

    describe("the spec's own examples, sent as they are", () => {
      it('create, list, update and delete answer as the spec shows', async () => {
        const req = {
          uuid: 'f02f80f8-8f35-11eb-8dcd-0242ac130003',
          transportName: 'WEBHOOK',
          eventNames: ['ProductUpdated'],
          destination: receiver.url,
          contactEmail: 'your_email@domain.com',
        };
        const created = await call('POST', `/organizations/${all.organizationUuid}/subscriptions`, req);
        assert.equal(created.status, 200);
        const sub = (await created.json()) as Record<string, unknown>;
        assert.deepEqual(
          { ...sub, updated: 'x', signingKey: 'x' },
          { ...req, updated: 'x', status: 'ACTIVE', signingKey: 'x' },
        );
        const list = (await (await call('GET', '/organizations/self/subscriptions')).json()) as Record<string, unknown>[];
        assert.deepEqual(list.find((s) => s.uuid === req.uuid), sub);
        const withFinance = await createCredential(h, ['READ:PRODUCT', 'READ:FINANCE'], { organizationUuid: all.organizationUuid });
        const put = await asCredential(h, withFinance)('PUT', `/organizations/self/subscriptions/${req.uuid}`, {
          eventNames: ['ProductUpdated', 'CardPaymentInvalid'],
        });
        assert.equal(put.status, 200);
        const del = await call('DELETE', `/organizations/self/subscriptions/uuid/${req.uuid}`);
        assert.equal(del.status, 204);
      });
    });
  });
}

for (const backend of testDatabases()) {
describe(`destination safety without HERALD_ALLOW_INSECURE_DESTINATIONS: ${backend.name}`, () => {
  let h: TestHerald;
  let cred: TestCredential;
  before(async () => {
    h = await startTestHerald(backend, { config: { allowInsecureDestinations: false } });
    cred = await createCredential(h, ALL_SCOPES);
  });
  after(() => h.stop());

  const UNSAFE = [
    'http://example.com/hook',
    'https://127.0.0.1/hook',
    'https://10.1.2.3/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://localhost/hook',
    'https://LOCALHOST:8443/hook',
  ];
  for (const destination of UNSAFE) {
    it(`create: 422 for ${destination}, storing nothing`, async () => {
      const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: [],
        destination,
        contactEmail: 'a@example.com',
      });
      await expectError(res, 422);
      const n = (await h.db.query<{ n: number }>('select count(*) as n from subscriptions')).rows[0]!.n;
      assert.equal(n, 0);
    });
  }

  it('update: the same 422 for each of them (a name that resolves to loopback included), storing nothing', async () => {
    // A subscription to a public destination (inserted: create would send it a TestMessage).
    const uuid = uuidv1();
    const stored = 'https://hooks.example.com/herald';
    await h.db.query(
      `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email, status,
                                  signing_key, created_by, livemode, created_at, updated_at)
       values ($1, $2, 'WEBHOOK', '{}', $3, 'a@example.com', 'ACTIVE', $4, $5, true, now(), now())`,
      [uuid, cred.organizationUuid, stored, `k${uuid.replaceAll('-', '')}`, `api_key:${cred.apiKeyId}`],
    );
    for (const destination of UNSAFE) {
      const res = await asCredential(h, cred)('PUT', `/organizations/self/subscriptions/${uuid}`, { destination });
      const body = await expectError(res, 422);
      assert.deepEqual(body.violations.map((v) => v.propertyName), ['destination'], destination);
      const row = await h.db.query<{ destination: string }>('select destination from subscriptions where uuid = $1', [uuid]);
      assert.equal(row.rows[0]!.destination, stored, `${destination} was not stored`);
    }
  });
});
}

for (const backend of testDatabases()) {
  describe(`subscriptions per organization are limited: ${backend.name}`, () => {
    let h: TestHerald;
    let receiver: TestReceiver;
    const LIMIT = 3;
    before(async () => {
      h = await startTestHerald(backend, { config: { maxSubscriptionsPerOrganization: LIMIT } });
      receiver = await startReceiver();
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    it('a create past HERALD_MAX_SUBSCRIPTIONS_PER_ORGANIZATION is 400 SUBSCRIPTION_LIMIT_REACHED, even in a concurrent burst', async () => {
      const cred = await createCredential(h, ALL_SCOPES);
      const create = () =>
        asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['ProductCreated'],
          destination: receiver.url,
          contactEmail: 'a@example.com',
        });
      // Ten at once against a limit of three: exactly three are made.
      const answers = await Promise.all(Array.from({ length: 10 }, create));
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 400, 400, 400, 400, 400, 400, 400]);
      for (const r of answers.filter((a) => a.status === 400)) await expectError(r, 400, 'SUBSCRIPTION_LIMIT_REACHED');
      const live = await h.db.query<{ n: number }>(
        'select count(*) as n from subscriptions where organization_uuid = $1 and deleted_at is null',
        [cred.organizationUuid],
      );
      assert.equal(live.rows[0]!.n, LIMIT);
      // Another organization has its own limit; a deleted subscription frees a place.
      const other = await createCredential(h, ALL_SCOPES);
      assert.equal((await asCredential(h, other)('GET', '/organizations/self/subscriptions')).status, 200);
      const [first] = (await (await asCredential(h, cred)('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
      assert.equal((await asCredential(h, cred)('DELETE', `/organizations/self/subscriptions/${first!.uuid}`)).status, 204);
      assert.equal((await create()).status, 200);
    });
  });
}
