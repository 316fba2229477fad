// Client compatibility: the nopCommerce Zettle plugin (Nop.Plugin.Misc.Zettle, C# with
// Newtonsoft.Json), re-implemented here from a written description of its wire
// behaviour (/tmp/research-nop.md), not from its code. What it relies on:
// - Every request carries User-Agent nopCommerce-<version>, Accept: application/json
//   and X-iZettle-Application-Id. POST /token is form-encoded (assertion, client_id,
//   grant_type); every other request has a JSON body, `{}` on GET and DELETE.
// - Success is decided by the body, never the status: a non-empty `error` or
//   `developerMessage` is an error; an empty body is a null result; lists must be arrays.
// - Webhook set-up: GET /organizations/self/subscriptions; an entry whose destination
//   equals its (lower-cased) webhook URL, case-insensitively, is reused with its
//   signingKey; else POST one for ProductCreated, InventoryBalanceChanged,
//   InventoryTrackingStopped, ApplicationConnectionRemoved. Removal: DELETE
//   /organizations/self/subscriptions/{uuid} with `{}`.
// - Receiving (always answered 200): the envelope's six fields as strings; TestMessage
//   returns before any check; X-iZettle-Signature (any case) compared case-insensitively
//   with hex HMAC-SHA256 over "<timestamp>.<payload>" (no stripslashes); then a switch
//   on eventName: InventoryBalanceChanged (entries paired by index, int balances,
//   DateTime created, its own change recognised by externalUuid, after which
//   updated.timestamp is read), InventoryTrackingStopped {productUuid}, ProductCreated
//   (the full Product model), ApplicationConnectionRemoved (clears the plugin's
//   credentials when payload.type is ApplicationConnectionRemoved or
//   PersonalAssertionDeleted, case-insensitively). Any other eventName is an error
//   ("Unknown webhook resource type").
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { testDatabases } from '../helpers/db.js';
import type { TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type ReceiverAnswer, type TestReceiver } from '../helpers/receiver.js';
import {
  deleteApiKey,
  eventNameOf,
  headerCI,
  hmacHex,
  newMerchant,
  productBody,
  startCompatHerald,
  wire,
  type CompatHerald,
} from './support.js';

const PARTNER_ID = 'f4954821-e7e4-4fca-854e-e36060b5748d';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const WEBHOOK_EVENTS = ['ProductCreated', 'InventoryBalanceChanged', 'InventoryTrackingStopped', 'ApplicationConnectionRemoved'];
const SCOPES = ['READ:PRODUCT', 'WRITE:PRODUCT', 'READ:USERINFO', 'READ:PURCHASE'] as const;
const COMMON_HEADERS = { 'User-Agent': 'nopCommerce-4.80.0', Accept: 'application/json', 'X-iZettle-Application-Id': PARTNER_ID };

// ---- Newtonsoft.Json deserialization into the plugin's typed models -----------------

type NKind = 'string' | 'int' | 'decimal' | 'bool' | 'date' | { list: NKind } | NClass;
interface NClass {
  cls: string;
  props: Record<string, NKind>;
}

class JsonSerializationError extends Error {}

/** Newtonsoft's ISO-8601 reader: Z, +HH:mm, +HHmm or +HH, up to 7 fraction digits. */
const NEWTONSOFT_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function parseNetDate(s: string): Date {
  if (!NEWTONSOFT_ISO.test(s)) throw new JsonSerializationError(`not an ISO date: ${s}`);
  const normalized = s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/\.(\d{3})\d+/, '.$1');
  const d = new Date(normalized);
  if (Number.isNaN(d.getTime())) throw new JsonSerializationError(`not a date: ${s}`);
  return d;
}

/** Deserializes a JSON value into a model, as JsonConvert.DeserializeObject<T> would, or throws. */
function deserialize(kind: NKind, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null; // every property is nullable
  const fail = (what: string): never => {
    throw new JsonSerializationError(`${path}: ${JSON.stringify(value)} is not ${what}`);
  };
  if (kind === 'string') return typeof value === 'object' ? fail('a string') : String(value);
  if (kind === 'int') {
    if (typeof value === 'number') return Number.isInteger(value) ? value : fail('an int');
    if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
    return fail('an int');
  }
  if (kind === 'decimal') {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value)) return Number(value);
    return fail('a decimal');
  }
  if (kind === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return fail('a bool');
  }
  if (kind === 'date') return typeof value === 'string' ? parseNetDate(value) : fail('a DateTime');
  if ('list' in kind) return Array.isArray(value) ? value.map((v, i) => deserialize(kind.list, v, `${path}[${i}]`)) : fail('a list');
  if (typeof value !== 'object' || Array.isArray(value)) fail(`a ${kind.cls} object`);
  const out: Record<string, unknown> = {};
  const byLowerName = new Map(Object.entries(kind.props).map(([k, v]) => [k.toLowerCase(), [k, v] as const]));
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const prop = byLowerName.get(key.toLowerCase()); // property names match case-insensitively
    if (prop) out[prop[0]] = deserialize(prop[1], v, `${path}.${key}`);
  }
  return out;
}

const ApiResponse = { error: 'string', error_description: 'string', developerMessage: 'string' } as const;
const Authentication: NClass = { cls: 'Authentication', props: { ...ApiResponse, access_token: 'string', expires_in: 'int' } };
const Subscription: NClass = {
  cls: 'Subscription',
  props: {
    ...ApiResponse,
    uuid: 'string',
    transportName: 'string',
    eventNames: { list: 'string' },
    destination: 'string',
    contactEmail: 'string',
    status: 'string',
    signingKey: 'string',
    updated: 'date',
  },
};
const Message: NClass = {
  cls: 'Message',
  props: { organizationUuid: 'string', messageUuid: 'string', messageId: 'string', eventName: 'string', payload: 'string', timestamp: 'string' },
};
const BalanceChange: NClass = {
  cls: 'InventoryBalanceChange',
  props: { locationUuid: 'string', productUuid: 'string', variantUuid: 'string', balance: 'int', created: 'date' },
};
const InventoryBalanceUpdate: NClass = {
  cls: 'InventoryBalanceUpdate',
  props: {
    ...ApiResponse,
    externalUuid: 'string',
    balanceBefore: { list: BalanceChange },
    balanceAfter: { list: BalanceChange },
    updated: { cls: 'InventoryBalanceUpdateDetails', props: { timestamp: 'date' } },
  },
};
const Presentation: NClass = { cls: 'ProductPresentation', props: { imageUrl: 'string', backgroundColor: 'string', textColor: 'string' } };
const Price: NClass = { cls: 'ProductPrice', props: { amount: 'int', currencyId: 'string' } };
const Product: NClass = {
  cls: 'Product',
  props: {
    ...ApiResponse,
    uuid: 'string',
    etag: 'string',
    categories: { list: 'string' },
    name: 'string',
    description: 'string',
    externalReference: 'string',
    unitName: 'string',
    vatPercentage: 'decimal',
    taxCode: 'string',
    taxRates: { list: 'string' },
    taxExempt: 'bool',
    createWithDefaultTax: 'bool',
    imageLookupKeys: { list: 'string' },
    presentation: Presentation,
    variants: {
      list: {
        cls: 'ProductVariant',
        props: {
          uuid: 'string',
          name: 'string',
          description: 'string',
          sku: 'string',
          barcode: 'string',
          vatPercentage: 'decimal',
          price: Price,
          costPrice: Price,
          options: { list: { cls: 'ProductVariantOption', props: { name: 'string', value: 'string' } } },
          presentation: Presentation,
        },
      },
    },
    online: { cls: 'ProductOnlineInfo', props: { status: 'string', title: 'string', description: 'string' } },
    variantOptionDefinitions: {
      cls: 'ProductVariantDefinitions',
      props: {
        definitions: {
          list: {
            cls: 'ProductVariantOptionDefinition',
            props: { name: 'string', properties: { list: { cls: 'ProductVariantOptionProperty', props: { value: 'string', imageUrl: 'string' } } } },
          },
        },
      },
    },
    category: { cls: 'ProductCategory', props: { uuid: 'string', name: 'string' } },
    metadata: { cls: 'ProductMetadata', props: { inPos: 'bool', source: { cls: 'ProductSource', props: { name: 'string', external: 'bool' } } } },
    updatedBy: 'string',
    updated: 'date',
    created: 'date',
  },
};

type Obj = Record<string, unknown>;

// ---- the plugin ------------------------------------------------------------------

class NopException extends Error {}

interface ZettleRecord {
  productUuid: string;
  variantUuid: string;
  active: boolean;
  inventoryTrackingEnabled: boolean;
  externalUuid: string | null;
}

class NopZettlePlugin {
  readonly settings: { clientId: string; apiKey: string; webhookUrl: string; webhookKey: string; importId: string };
  private accessToken: string | null = null;
  readonly calls: { method: string; path: string; status: number; body: string; answer: string }[] = [];
  readonly records: ZettleRecord[] = [];
  /** Stock adjustments made by the webhook (AdjustInventoryAsync), per variant. */
  readonly adjustments: { variantUuid: string; quantity: number }[] = [];
  /** What HandleFunctionAsync logged: the error of each failed webhook, and warnings. */
  readonly log: string[] = [];
  readonly handled: string[] = [];

  constructor(
    private readonly base: string,
    apiKey: string,
  ) {
    this.settings = { clientId: 'merchant-client-id', apiKey, webhookUrl: '', webhookKey: '', importId: 'import-1' };
  }

  private checkBody(text: string): unknown {
    if (text === '') return null;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NopException(`not JSON: ${text.slice(0, 80)}`);
    }
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const { error, error_description, developerMessage } = json as Obj;
      if (typeof error === 'string' && error !== '') throw new NopException(typeof error_description === 'string' && error_description ? error_description : error);
      if (typeof developerMessage === 'string' && developerMessage !== '') throw new NopException(developerMessage);
    }
    return json;
  }

  /** GetAccessTokenAsync: POST token, FormUrlEncodedContent in this order. */
  async authenticate(): Promise<Obj> {
    const form = new URLSearchParams([
      ['assertion', this.settings.apiKey],
      ['client_id', PARTNER_ID],
      ['grant_type', JWT_BEARER],
    ]).toString();
    const r = await wire(this.base, 'POST', '/token', { ...COMMON_HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' }, form);
    this.calls.push({ method: 'POST', path: '/token', status: r.status, body: form, answer: r.text });
    const auth = deserialize(Authentication, this.checkBody(r.text), 'Authentication') as Obj;
    this.accessToken = auth.access_token as string;
    return auth;
  }

  /** RequestAsync: every request has a JSON body (`{}` for the body-less ones); the body decides success. */
  async request(method: string, path: string, body: Obj = {}, model?: NKind): Promise<unknown> {
    if (this.accessToken === null) await this.authenticate();
    const text = JSON.stringify(body);
    const r = await wire(
      this.base,
      method,
      path,
      { ...COMMON_HEADERS, Authorization: `Bearer ${this.accessToken}`, 'Content-Type': 'application/json; charset=utf-8' },
      text,
    );
    this.calls.push({ method, path, status: r.status, body: text, answer: r.text });
    const json = this.checkBody(r.text);
    return model && json !== null ? deserialize(model, json, path) : json;
  }

  /** CreateWebhookAsync: reuse the listed subscription of this URL, or create one. */
  async createWebhook(webhookUrl: string, contactEmail: string): Promise<Obj> {
    const list = (await this.request('GET', '/organizations/self/subscriptions', {}, { list: Subscription })) as Obj[];
    let sub = list.find((s) => typeof s.destination === 'string' && s.destination.toLowerCase() === webhookUrl.toLowerCase());
    if (!sub) {
      sub = (await this.request(
        'POST',
        '/organizations/self/subscriptions',
        { uuid: uuidv1(), transportName: 'WEBHOOK', eventNames: WEBHOOK_EVENTS, destination: webhookUrl, contactEmail },
        Subscription,
      )) as Obj;
    }
    this.settings.webhookUrl = sub.destination as string;
    this.settings.webhookKey = (sub.signingKey as string | null) ?? '';
    return sub;
  }

  /** DeleteWebhookAsync: find ours in the list, DELETE it with `{}`. */
  async deleteWebhook(): Promise<boolean> {
    const list = (await this.request('GET', '/organizations/self/subscriptions', {}, { list: Subscription })) as Obj[];
    const sub = list.find((s) => typeof s.destination === 'string' && s.destination.toLowerCase() === this.settings.webhookUrl.toLowerCase());
    if (!sub) return false;
    await this.request('DELETE', `/organizations/self/subscriptions/${sub.uuid as string}`, {});
    return true;
  }

  /** The webhook endpoint: always 200; failures are logged by HandleFunctionAsync. */
  handleWebhook(r: ReceivedRequest): ReceiverAnswer {
    try {
      this.onWebhook(r);
    } catch (err) {
      this.log.push(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { status: 200, body: '' };
  }

  private onWebhook(r: ReceivedRequest) {
    if (!this.settings.clientId || !this.settings.apiKey) throw new NopException('Plugin not configured');
    if (r.body === '') throw new NopException('Webhook request content is empty');
    const message = deserialize(Message, JSON.parse(r.body), 'Message') as Record<string, string | null>;
    if (message.eventName === 'TestMessage') return;
    if (!this.settings.webhookKey) throw new NopException('Webhook is not set');
    const signature = headerCI(r, 'X-iZettle-Signature');
    if (signature === undefined) throw new NopException('Webhook request not signed by a signature header');
    const expected = hmacHex(this.settings.webhookKey, `${message.timestamp ?? ''}.${message.payload ?? ''}`);
    if (signature.toLowerCase() !== expected) throw new NopException("Webhook request isn't valid");
    const payload = JSON.parse(message.payload ?? 'null') as unknown;
    switch (message.eventName) {
      case 'InventoryBalanceChanged':
        this.onBalanceChanged(deserialize(InventoryBalanceUpdate, payload, 'InventoryBalanceUpdate') as Obj);
        break;
      case 'InventoryTrackingStopped': {
        const info = deserialize({ cls: 'anon', props: { productUuid: 'string' } }, payload, 'anon') as Obj;
        if (!info.productUuid) break;
        for (const rec of this.records.filter((x) => x.productUuid === info.productUuid)) rec.inventoryTrackingEnabled = false;
        break;
      }
      case 'ProductCreated': {
        const product = deserialize(Product, payload, 'Product') as Obj;
        this.handled.push(`ProductCreated ${product.uuid as string}`);
        break;
      }
      case 'ApplicationConnectionRemoved': {
        const info = deserialize({ cls: 'anon', props: { type: 'string' } }, payload, 'anon') as { type: string | null };
        if (!info.type) break;
        let warning = info.type;
        if (['applicationconnectionremoved', 'personalassertiondeleted'].includes(info.type.toLowerCase())) {
          warning = 'The application was disconnected from PayPal Zettle organization. You need to reconfigure the plugin.';
          Object.assign(this.settings, { clientId: '', apiKey: '', webhookUrl: '', webhookKey: '', importId: '' });
        }
        this.log.push(`warning: ${warning}`);
        break;
      }
      default:
        throw new NopException(`Unknown webhook resource type '${message.eventName}'`);
    }
    this.handled.push(message.eventName!);
  }

  private onBalanceChanged(info: Obj) {
    const before = (info.balanceBefore as Obj[] | null) ?? [];
    const afterList = (info.balanceAfter as Obj[] | null) ?? [];
    for (let i = 0; i < before.length; i++) {
      const b = before[i];
      const a = afterList[i];
      if (!b?.productUuid || !a?.productUuid) continue;
      if (b.productUuid !== a.productUuid || b.variantUuid !== a.variantUuid) continue;
      if (b.balance === null || a.balance === null || b.balance === undefined || a.balance === undefined) continue;
      const record = this.records.find((x) => x.productUuid === a.productUuid && x.variantUuid.toLowerCase() === String(a.variantUuid).toLowerCase());
      if (!record || !record.active || !record.inventoryTrackingEnabled) continue;
      if (record.externalUuid === (info.externalUuid ?? null)) {
        // Its own change: keep externalUuid for a day, judged by updated.timestamp.
        const updated = info.updated as Obj | null;
        if (updated === null || updated === undefined) throw new NopException('Object reference not set to an instance of an object (updated)');
        const when = (updated.timestamp as Date | null) ?? new Date();
        if (when.getTime() < Date.now() - 24 * 3600 * 1000) record.externalUuid = null;
        this.handled.push(`own change ${record.variantUuid}`);
        continue;
      }
      this.adjustments.push({ variantUuid: record.variantUuid, quantity: (a.balance as number) - (b.balance as number) });
    }
  }
}

for (const backend of testDatabases()) {
  describe(`nopCommerce Zettle plugin against Herald: ${backend.name}`, () => {
    let h: CompatHerald;
    let receiver: TestReceiver;
    let merchant: TestCredential;
    /** The plugin's webhook URL: its route, registered lower-cased. */
    let webhookUrl: string;
    /** Store instances by webhook path (each answers its own deliveries). */
    const stores = new Map<string, NopZettlePlugin>();
    const route = (r: ReceivedRequest): ReceiverAnswer => stores.get(r.path)?.handleWebhook(r) ?? { status: 200, body: '' };
    const newStore = (cred: TestCredential, path = '/zettle/webhook') => {
      const p = new NopZettlePlugin(h.url, cred.apiKey);
      stores.set(path, p);
      return p;
    };

    before(async () => {
      h = await startCompatHerald(backend);
      receiver = await startReceiver();
      merchant = await newMerchant(h, [...SCOPES]);
      webhookUrl = `${receiver.origin}/zettle/webhook`;
    });
    after(async () => {
      await receiver?.close();
      await h?.stop();
    });
    beforeEach(() => {
      receiver.reset();
      receiver.respondWith(route);
    });

    it('token: form fields assertion, client_id (its partner id), grant_type; access_token a string, expires_in an int, no error fields', async () => {
      const plugin = new NopZettlePlugin(h.url, merchant.apiKey);
      const auth = await plugin.authenticate();
      assert.equal(plugin.calls[0]!.status, 200, plugin.calls[0]!.answer);
      assert.equal(typeof auth.access_token, 'string');
      assert.ok(Number.isInteger(auth.expires_in));
      assert.equal(auth.error ?? null, null);
      assert.equal(auth.developerMessage ?? null, null);
    });

    it('the store inventory it reads (GET /organizations/self/inventory/locations?type=store) is one object, and the four locations exist once each', async () => {
      const plugin = new NopZettlePlugin(h.url, merchant.apiKey);
      const locations = (await plugin.request('GET', '/organizations/self/locations', {})) as Obj[];
      for (const type of ['SUPPLIER', 'STORE', 'SOLD', 'BIN']) {
        assert.equal(locations.filter((l) => l.type === type).length, 1, type);
      }
      const store = (await plugin.request('GET', '/organizations/self/inventory/locations?type=store', {})) as Obj;
      assert.ok(store && typeof store === 'object' && !Array.isArray(store), JSON.stringify(store));
      assert.equal(store.locationUuid, locations.find((l) => l.type === 'STORE')!.uuid);
      assert.ok(Array.isArray(store.trackedProducts));
      assert.ok(Array.isArray(store.variants));
    });

    it('GET and DELETE with a `{}` JSON body are accepted', async () => {
      const plugin = new NopZettlePlugin(h.url, merchant.apiKey);
      const list = await plugin.request('GET', '/organizations/self/subscriptions', {}, { list: Subscription });
      assert.ok(Array.isArray(list));
      const get = plugin.calls.at(-1)!;
      assert.equal(get.status, 200, get.answer);
      assert.equal(get.body, '{}');

      const created = (await plugin.request(
        'POST',
        '/organizations/self/subscriptions',
        { uuid: uuidv1(), transportName: 'WEBHOOK', eventNames: ['ProductCreated'], destination: `${receiver.origin}/zettle/other`, contactEmail: 'shop@example.com' },
        Subscription,
      )) as Obj;
      assert.equal(await plugin.request('DELETE', `/organizations/self/subscriptions/${created.uuid as string}`, {}), null, 'an empty answer is a null result');
      const del = plugin.calls.at(-1)!;
      assert.equal(del.status, 204, del.answer);
      assert.equal(del.body, '{}');
    });

    it('every failure can be told from the body alone (non-empty developerMessage or error), as the plugin ignores the status', async () => {
      const plugin = new NopZettlePlugin(h.url, merchant.apiKey);
      await plugin.authenticate();
      const expectFailure = async (what: string, call: () => Promise<unknown>) => {
        await assert.rejects(call(), NopException, what);
      };
      await expectFailure('DELETE of an unknown subscription', () => plugin.request('DELETE', `/organizations/self/subscriptions/${uuidv1()}`, {}));
      await expectFailure('a duplicate subscription uuid', async () => {
        const body = { uuid: uuidv1(), transportName: 'WEBHOOK', eventNames: ['ProductCreated'], destination: `${receiver.origin}/zettle/dup`, contactEmail: 'shop@example.com' };
        await plugin.request('POST', '/organizations/self/subscriptions', body);
        await plugin.request('POST', '/organizations/self/subscriptions', body);
      });
      await expectFailure('an invalid create', () => plugin.request('POST', '/organizations/self/subscriptions', { uuid: 'x' }));
      await expectFailure('a route Herald does not serve (the product import)', () =>
        plugin.request('GET', '/organizations/self/import/status/00000000-0000-1000-8000-000000000000', {}),
      );
      const anonymous = new NopZettlePlugin(h.url, merchant.apiKey);
      Object.assign(anonymous, { accessToken: 'not-a-token' });
      await expectFailure('a bad bearer', () => anonymous.request('GET', '/organizations/self/subscriptions', {}));
      const unknownKey = new NopZettlePlugin(h.url, `${merchant.apiKey.split('.').slice(0, 2).join('.')}.AAAA`);
      await expectFailure('POST /token with a key Herald did not issue', () => unknownKey.authenticate());
    });

    it('webhook set-up: create with the lower-cased URL; the next run reuses the listed entry and its signingKey; removal DELETEs it with `{}`', async () => {
      const plugin = newStore(merchant);
      const created = await plugin.createWebhook(webhookUrl, 'shop@example.com');
      assert.deepEqual(
        plugin.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
        ['POST /token 200', 'GET /organizations/self/subscriptions 200', 'POST /organizations/self/subscriptions 200'],
      );
      assert.deepEqual(created.eventNames, WEBHOOK_EVENTS);
      assert.equal(typeof created.signingKey, 'string');
      assert.ok(created.updated instanceof Date, 'updated parses as a DateTime');
      const key = plugin.settings.webhookKey;
      assert.ok(key);
      assert.ok(plugin.handled.length === 0 && plugin.log.length === 0, `the TestMessage returned early: ${plugin.log.join('; ')}`);

      // A second configuration run finds the subscription in the list.
      plugin.calls.length = 0;
      const reused = await plugin.createWebhook(webhookUrl.toUpperCase().replace('HTTP://', 'http://'), 'shop@example.com');
      assert.deepEqual(plugin.calls.map((c) => `${c.method} ${c.status}`), ['GET 200'], 'no second subscription');
      assert.equal(reused.uuid, created.uuid);
      assert.equal(plugin.settings.webhookKey, key, 'the list entry carries the same signingKey');

      // Removal, and the store set up again.
      plugin.calls.length = 0;
      assert.equal(await plugin.deleteWebhook(), true);
      assert.deepEqual(plugin.calls.map((c) => `${c.method} ${c.path} ${c.status} ${c.body}`), [
        'GET /organizations/self/subscriptions 200 {}',
        `DELETE /organizations/self/subscriptions/${created.uuid as string} 204 {}`,
      ]);
      await plugin.createWebhook(webhookUrl, 'shop@example.com');
      assert.notEqual(plugin.settings.webhookKey, key);
    });

    describe('receiving', () => {
      let plugin: NopZettlePlugin;
      let pos: (method: string, path: string, body: unknown) => ReturnType<typeof wire>;
      let product: { uuid: string; variants: { uuid: string }[] };

      before(async () => {
        plugin = newStore(merchant);
        // A store restarted: the subscription made above is found in the list and reused.
        await plugin.createWebhook(webhookUrl, 'shop@example.com');
        // The merchant's point of sale: another key of the organization.
        const posKey = await newMerchant(h, ['READ:PRODUCT', 'WRITE:PRODUCT'], merchant.organizationUuid);
        pos = (method, path, body) => wire(h.url, method, path, { Authorization: posKey.auth, 'Content-Type': 'application/json' }, JSON.stringify(body));
      });

      it('ProductCreated: the payload deserializes as the plugin\'s full Product model', async () => {
        product = (await plugin.request('POST', '/organizations/self/products', productBody('Kaffe', [
          { name: 'Small', amount: 3500 },
          { name: 'Large', amount: 4500 },
        ]))) as typeof product;
        await h.settle();
        const got = receiver.requests.filter((r) => r.path === '/zettle/webhook' && eventNameOf(r) === 'ProductCreated');
        assert.equal(got.length, 1);
        assert.deepEqual(plugin.log, [], 'nothing went wrong');
        assert.deepEqual(plugin.handled, [`ProductCreated ${product.uuid}`, 'ProductCreated']);
        const parsed = deserialize(Product, JSON.parse((got[0]!.json as { payload: string }).payload), 'Product') as Obj;
        assert.ok(parsed.created instanceof Date && parsed.updated instanceof Date);
        assert.equal(((parsed.variants as Obj[])[1]!.price as Obj).amount, 4500);
        for (const v of product.variants) {
          plugin.records.push({ productUuid: product.uuid, variantUuid: v.uuid, active: true, inventoryTrackingEnabled: true, externalUuid: null });
        }
      });

      it('InventoryBalanceChanged: entries paired by index; its own change is recognised by externalUuid (reading updated.timestamp); the POS change adjusts stock', async () => {
        assert.ok(product, 'the product of the previous test');
        await plugin.request('POST', '/organizations/self/inventory/tracking', { productUuid: product.uuid });
        await h.settle();
        receiver.reset();
        receiver.respondWith(route);
        plugin.handled.length = 0;
        const [v1, v2] = product.variants.map((v) => v.uuid) as [string, string];

        // The plugin's own change, tagged with an externalUuid it stored on its records.
        const externalUuid = uuidv1();
        for (const rec of plugin.records) rec.externalUuid = externalUuid;
        await plugin.request('PUT', '/organizations/self/inventory/balances', {
          externalUuid,
          changes: [
            { productUuid: product.uuid, variantUuid: v1, balance: '10' },
            { productUuid: product.uuid, variantUuid: v2, balance: '5' },
          ],
        });
        await h.settle();
        // A change at the point of sale, with no externalUuid.
        const res = await pos('PUT', '/organizations/self/inventory/balances', {
          changes: [
            { productUuid: product.uuid, variantUuid: v1, balance: '7' },
            { productUuid: product.uuid, variantUuid: v2, balance: '8' },
          ],
        });
        assert.equal(res.status, 200, res.text);
        await h.settle();

        const got = receiver.requests.filter((r) => r.path === '/zettle/webhook' && eventNameOf(r) === 'InventoryBalanceChanged');
        assert.equal(got.length, 2);
        const payloads = got.map((r) => JSON.parse((r.json as { payload: string }).payload) as Obj);
        assert.equal(payloads[0]!.externalUuid, externalUuid);
        assert.equal(payloads[1]!.externalUuid, null);
        for (const p of payloads) {
          const typed = deserialize(InventoryBalanceUpdate, p, 'InventoryBalanceUpdate') as Obj;
          assert.ok((typed.updated as Obj | null)?.timestamp instanceof Date, `updated.timestamp parses: ${JSON.stringify(p.updated)}`);
          for (const b of typed.balanceBefore as Obj[]) assert.ok(b.created instanceof Date, 'balanceBefore created parses');
        }
        assert.deepEqual(plugin.log, [], 'nothing went wrong');
        assert.deepEqual(plugin.handled, [`own change ${v1}`, `own change ${v2}`, 'InventoryBalanceChanged', 'InventoryBalanceChanged']);
        assert.deepEqual(plugin.adjustments, [
          { variantUuid: v1, quantity: -3 },
          { variantUuid: v2, quantity: 3 },
        ]);
      });

      it('InventoryTrackingStopped: {productUuid} turns tracking off on its records', async () => {
        assert.ok(product, 'the product of the previous tests');
        const res = await pos('DELETE', `/organizations/self/inventory/tracking/${product.uuid}`, {});
        assert.equal(res.status, 204, res.text);
        await h.settle();
        assert.deepEqual(plugin.log, []);
        assert.ok(plugin.records.every((r) => !r.inventoryTrackingEnabled));
      });
    });

    it('deleting the API key: its ApplicationConnectionRemoved subscription gets one message, which the plugin acts on (payload.type PersonalAssertionDeleted): its credentials are cleared', async () => {
      const key = await newMerchant(h, [...SCOPES]);
      const store = newStore(key, '/zettle/webhook/a');
      await store.createWebhook(`${receiver.origin}/zettle/webhook/a`, 'a@example.com');
      // Another store of the same organization, with its own key: not told.
      const otherKey = await newMerchant(h, [...SCOPES], key.organizationUuid);
      const other = newStore(otherKey, '/zettle/webhook/b');
      await other.createWebhook(`${receiver.origin}/zettle/webhook/b`, 'b@example.com');
      await h.settle();
      receiver.reset();
      receiver.respondWith(route);

      await deleteApiKey(h, key);
      await h.settle();
      const toA = receiver.requests.filter((r) => r.path === '/zettle/webhook/a');
      assert.equal(toA.length, 1, 'one message to the deleted key\'s subscription');
      assert.equal(receiver.requests.filter((r) => r.path === '/zettle/webhook/b').length, 0, 'none to the other key\'s');
      const env = toA[0]!.json as { eventName: string; payload: string };
      const payload = JSON.parse(env.payload) as { type?: string };
      assert.equal(payload.type?.toLowerCase(), 'personalassertiondeleted');
      assert.equal(
        env.eventName,
        'ApplicationConnectionRemoved',
        'the plugin dispatches on eventName and reads payload.type only under ApplicationConnectionRemoved (its only subscribed disconnection event); ' +
          `under "${env.eventName}" it logs: ${store.log.join('; ')}`,
      );
      assert.deepEqual(store.settings, { clientId: '', apiKey: '', webhookUrl: '', webhookKey: '', importId: '' }, 'credentials cleared');
      assert.equal(other.settings.apiKey, otherKey.apiKey);
    });
  });
}
