// Client compatibility: PayPal POS for WooCommerce (inpsyde/paypal-point-of-sale),
// re-implemented here from a written description of its wire behaviour
// (/tmp/research-paypal.md), not from its code. What it relies on:
// - API keys: three dot-separated parts whose first two are strict base64url JSON; no
//   signature or claim checks.
// - Onboarding: an unauthenticated GET /users/me must answer 400/401/500 so that the
//   plugin fetches a token; POST /token with a hand-built, unencoded form body
//   (grant_type, assertion, client_id, in that order) that also carries the headers of
//   the request that triggered it (X-iZettle-Application-Id, a stale Authorization);
//   exactly 200, at least two keys, access_token a string, expires_in a JSON integer
//   (a PHP int under strict_types).
// - Every API call sends Content-Type: application/json; GET without a body; DELETE
//   with the body `[]`. 400/401/500 trigger one token fetch and one replay.
// - Webhooks: list, DELETE /organizations/self/subscriptions/uuid/{uuid} (body `[]`) for
//   each subscription whose destination is ours, create. Every list item needs a valid
//   uuid, an eventNames array, string destination and contactEmail, and a status
//   string when it has a signingKey.
// - Receiving: X-Izettle-Signature looked up case-insensitively, lowercase hex
//   HMAC-SHA256 (signingKey as given) over "<timestamp>.<payload>"; the check is skipped
//   only for eventName TestMessage whose payload decodes to data === "payload".
//   eventName, organizationUuid, messageId strings, payload a string of a JSON object.
//   InventoryBalanceChanged: ignored when payload.externalUuid is the plugin's own
//   identifier, else per variant after − before, balances numbers or numeric strings.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { testDatabases } from '../helpers/db.js';
import type { TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type ReceiverAnswer, type TestReceiver } from '../helpers/receiver.js';
import {
  WELL_FORMED_UUID,
  base64UrlDecodeStrict,
  eventNameOf,
  headerCI,
  hmacHex,
  isPhpArray,
  newMerchant,
  phpJsonDecode,
  productBody,
  startCompatHerald,
  wire,
  type CompatHerald,
  type WireResponse,
} from './support.js';

/** The plugin's OAuth client id: sent as client_id at /token and as X-iZettle-Application-Id everywhere. */
const PLUGIN_CLIENT_ID = 'de149dc7-44b5-4390-ab64-88e301771f06';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PLUGIN_EVENTS = ['ProductDeleted', 'InventoryBalanceChanged', 'InventoryTrackingStarted', 'InventoryTrackingStopped'];
const CONTACT_EMAIL = 'zettle-webhooks@inpsyde.com';
const REFETCH_STATUSES = [400, 401, 500];

/** The plugin's JWT syntax check: exactly three parts, the first two strict base64url of JSON objects or arrays. */
function passesJwtSyntaxCheck(key: string): boolean {
  const parts = key.split('.');
  if (parts.length !== 3) return false;
  for (const part of parts.slice(0, 2)) {
    let decoded: Buffer;
    try {
      decoded = base64UrlDecodeStrict(part);
    } catch {
      return false;
    }
    if (decoded.length === 0) return false;
    if (!isPhpArray(phpJsonDecode(decoded.toString('utf8')))) return false;
  }
  return true;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** The plugin's QA fixture of a syntactically valid key nobody issued. */
const FAKE_API_KEY = [
  b64url({ alg: 'HS256', typ: 'JWT' }),
  b64url({ sub: 'test-invalid', iss: 'paypal', iat: 1700000000 }),
  'SIG_INVALID_FAKE_DO_NOT_USE',
].join('.');

/** Symfony's Uuid::isValid (8-4-4-4-12 hex). */
const isValidUuid = (v: unknown): v is string => typeof v === 'string' && WELL_FORMED_UUID.test(v);

/** PHP's is_numeric for the balance fields. */
const isNumeric = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v));

class ZettleRestError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
  ) {
    super(`Zettle REST error ${status} ${errorType ?? ''}`);
  }
}

class AuthenticationError extends Error {}

interface StoredSubscription {
  uuid: string;
  transportName: unknown;
  eventNames: unknown[];
  destination: string;
  contactEmail: string;
  signingKey?: string;
  status?: string;
}

/** The plugin's subscription builder: throws (WebhookException) when an item lacks what it needs. */
function parseSubscription(item: unknown): StoredSubscription {
  if (!isPhpArray(item)) throw new Error(`WebhookException: not an object: ${JSON.stringify(item)}`);
  if (!isValidUuid(item.uuid)) throw new Error(`WebhookException: invalid uuid ${String(item.uuid)}`);
  if (!Array.isArray(item.eventNames)) throw new Error('WebhookException: eventNames is not an array');
  if (typeof item.destination !== 'string') throw new Error('WebhookException: destination is not a string');
  if (typeof item.contactEmail !== 'string') throw new Error('WebhookException: contactEmail is not a string');
  if (item.signingKey !== undefined && typeof item.status !== 'string') throw new Error('WebhookException: signingKey without status');
  return item as unknown as StoredSubscription;
}

interface Call {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** The plugin: its auth plugin, REST client, webhook registration and webhook endpoint. */
class PayPalPosPlugin {
  /** The stored token (settings key api_token). */
  token: { access_token: string; expires_in: number } | null = null;
  authFailed = false;
  listener: StoredSubscription | null = null;
  /** The integration UUID: the identifier of the plugin's own stock movements. */
  readonly integrationUuid = uuidv1();
  readonly calls: Call[] = [];
  /** Local stock per variant, as the InventoryBalanceChanged handler adjusts it. */
  readonly stock = new Map<string, number>();
  readonly webhookLog: { eventName: string; outcome: 'handled' | 'ignored-own-change' | 'skipped-check' | 'rejected' | 'type-error' }[] = [];

  constructor(
    private readonly base: string,
    private readonly apiKey: string,
  ) {}

  private async send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<WireResponse> {
    const r = await wire(this.base, method, path, headers, body);
    this.calls.push({ method, path, status: r.status, headers, body });
    return r;
  }

  /** The JWT grant: the triggering request cloned onto /token, with a form body built by hand (not URL-encoded). */
  async fetchToken(triggerHeaders: Record<string, string>): Promise<{ access_token: string; expires_in: number }> {
    const headers = { ...triggerHeaders, 'Content-Type': 'application/x-www-form-urlencoded' };
    const form = `grant_type=${JWT_BEARER}&assertion=${this.apiKey}&client_id=${PLUGIN_CLIENT_ID}`;
    const r = await this.send('POST', '/token', headers, form);
    if (r.status !== 200) {
      this.authFailed = true;
      throw new AuthenticationError(`Authentication attempt rejected: '${r.text}' (${r.status})`);
    }
    const data = phpJsonDecode(r.text);
    if (!isPhpArray(data) || Object.keys(data).length < 2) throw new AuthenticationError(`not a token: ${r.text}`);
    if (typeof data.access_token !== 'string') throw new TypeError('access_token must be a string');
    // new Token(string, int, ...) under strict_types: a JSON integer literal, not 7200.0 or "7200".
    if (!/"expires_in"\s*:\s*-?\d+\s*[,}]/.test(r.text)) throw new TypeError(`expires_in must be a JSON integer: ${r.text}`);
    return { access_token: data.access_token, expires_in: data.expires_in as number };
  }

  /** The REST client behind the auth plugin: one token fetch and one replay on 400/401/500. */
  async rest(method: string, path: string, payload?: unknown): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-iZettle-Application-Id': PLUGIN_CLIENT_ID,
      ...(this.token ? { Authorization: `Bearer ${this.token.access_token}` } : {}),
    };
    const body = method === 'GET' ? undefined : JSON.stringify(payload ?? []);
    let r = await this.send(method, path, headers, body);
    if (REFETCH_STATUSES.includes(r.status)) {
      this.token = await this.fetchToken(headers);
      headers.Authorization = `Bearer ${this.token.access_token}`;
      r = await this.send(method, path, headers, body);
    }
    if (r.status >= 200 && r.status < 400) {
      const decoded = phpJsonDecode(r.text);
      if (decoded === null) return {};
      if (!isPhpArray(decoded)) throw new TypeError(`a JSON scalar answer: ${r.text}`);
      return decoded;
    }
    const err = phpJsonDecode(r.text) as { errorType?: string } | null;
    throw new ZettleRestError(r.status, r.status === 401 || r.status === 403 ? 'UNAUTHENTICATED' : err?.errorType);
  }

  /**
   * Onboarding's CredentialValidator: a throw-away client sends GET /users/me. Its
   * success handler never stores the token, so the replay goes without Authorization
   * too; the key is valid unless the token fetch fails.
   */
  async validateApiToken(): Promise<boolean> {
    const headers = { 'Content-Type': 'application/json', 'X-iZettle-Application-Id': PLUGIN_CLIENT_ID };
    const first = await this.send('GET', '/users/me', headers);
    if (REFETCH_STATUSES.includes(first.status)) {
      try {
        await this.fetchToken(headers);
      } catch (err) {
        if (err instanceof AuthenticationError) return false;
        throw err;
      }
      await this.send('GET', '/users/me', headers);
    }
    return true;
  }

  /** Onboarding accepts a key when its syntax passes and the validator does not throw. */
  async onboard(): Promise<boolean> {
    return passesJwtSyntaxCheck(this.apiKey) && (await this.validateApiToken());
  }

  /** WebhookRegistration: list, delete ours by destination, create, store. */
  async registerWebhook(destination: string): Promise<StoredSubscription> {
    const list = await this.rest('GET', '/organizations/self/subscriptions');
    assert.ok(Array.isArray(list), 'the subscription list is a JSON array');
    for (const sub of list.map(parseSubscription)) {
      if (sub.destination === destination) await this.rest('DELETE', `/organizations/self/subscriptions/uuid/${sub.uuid}`, []);
    }
    const created = parseSubscription(
      await this.rest('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: PLUGIN_EVENTS,
        destination,
        contactEmail: CONTACT_EMAIL,
      }),
    );
    if (typeof created.signingKey !== 'string' || typeof created.status !== 'string') throw new Error('not registered: no signingKey/status');
    this.listener = created;
    return created;
  }

  /** The WP REST route /wp-json/zettle/v1/webhook/listen: permission check, envelope, handlers. */
  handleWebhook(r: ReceivedRequest): ReceiverAnswer {
    // WordPress reads the JSON through get_json_params(): only with Content-Type application/json.
    const params = (headerCI(r, 'content-type') ?? '').startsWith('application/json') ? phpJsonDecode(r.body) : null;
    const body = isPhpArray(params) ? params : {};
    const eventName = body.eventName;
    const payloadText = body.payload;
    const payload = typeof payloadText === 'string' ? phpJsonDecode(payloadText) : null;
    const isTestMessage = eventName === 'TestMessage' && isPhpArray(payload) && payload.data === 'payload';
    if (isTestMessage) {
      this.webhookLog.push({ eventName, outcome: 'skipped-check' });
    } else {
      const signature = headerCI(r, 'X-Izettle-Signature');
      const key = this.listener?.signingKey;
      const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
      if (!signature || !key || signature !== hmacHex(key, `${str(body.timestamp)}.${str(payloadText)}`)) {
        this.webhookLog.push({ eventName: String(eventName), outcome: 'rejected' });
        return { status: 401, headers: { 'content-type': 'application/json' }, body: '{"code":"rest_forbidden","data":{"status":401}}' };
      }
    }
    // ZettlePayloadFactory: typed fields, or a PHP TypeError (HTTP 500).
    if (typeof eventName !== 'string' || typeof body.organizationUuid !== 'string' || typeof body.messageId !== 'string' || !isPhpArray(payload) || Array.isArray(payload)) {
      this.webhookLog.push({ eventName: String(eventName), outcome: 'type-error' });
      return { status: 500, body: 'TypeError' };
    }
    if (eventName === 'InventoryBalanceChanged') this.onBalanceChanged(payload);
    else if (!isTestMessage) this.webhookLog.push({ eventName, outcome: 'handled' });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":200}' };
  }

  private onBalanceChanged(payload: Record<string, unknown>) {
    if (payload.externalUuid === this.integrationUuid) {
      this.webhookLog.push({ eventName: 'InventoryBalanceChanged', outcome: 'ignored-own-change' });
      return;
    }
    const entries = (v: unknown) => (Array.isArray(v) ? (v as { variantUuid?: unknown; balance?: unknown }[]) : []);
    const before = new Map<unknown, number>();
    for (const b of entries(payload.balanceBefore)) {
      assert.ok(isNumeric(b.balance), `balanceBefore balance is numeric: ${JSON.stringify(b.balance)}`);
      before.set(b.variantUuid, Number(b.balance));
    }
    for (const a of entries(payload.balanceAfter)) {
      assert.ok(isNumeric(a.balance), `balanceAfter balance is numeric: ${JSON.stringify(a.balance)}`);
      const variant = String(a.variantUuid);
      this.stock.set(variant, (this.stock.get(variant) ?? 0) + Number(a.balance) - (before.get(a.variantUuid) ?? 0));
    }
    this.webhookLog.push({ eventName: 'InventoryBalanceChanged', outcome: 'handled' });
  }
}

for (const backend of testDatabases()) {
  describe(`PayPal POS for WooCommerce against Herald: ${backend.name}`, () => {
    let h: CompatHerald;
    let receiver: TestReceiver;
    let merchant: TestCredential;
    let destination: string;

    before(async () => {
      h = await startCompatHerald(backend);
      receiver = await startReceiver();
      merchant = await newMerchant(h, ['READ:PRODUCT', 'WRITE:PRODUCT', 'READ:USERINFO', 'READ:PURCHASE', 'READ:FINANCE']);
      destination = `${receiver.origin}/wp-json/zettle/v1/webhook/listen`;
    });
    after(async () => {
      await receiver?.close();
      await h?.stop();
    });
    beforeEach(() => receiver.reset());

    it('the API key passes the plugin\'s JWT syntax check (3 parts, header and claims base64url JSON)', () => {
      assert.ok(passesJwtSyntaxCheck(merchant.apiKey));
      // The checker itself: it also passes the QA fixture, and refuses what is not a JWT.
      assert.ok(passesJwtSyntaxCheck(FAKE_API_KEY));
      assert.ok(!passesJwtSyntaxCheck('not-a-jwt'));
      assert.ok(!passesJwtSyntaxCheck(`${merchant.apiKey}.x`));
    });

    it('onboarding: GET /users/me unauthenticated is 401, POST /token (hand-built form) is 200, GET /users/me with the bearer is 200', async () => {
      const plugin = new PayPalPosPlugin(h.url, merchant.apiKey);
      assert.equal(await plugin.onboard(), true, 'the key is accepted');
      assert.deepEqual(
        plugin.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
        ['GET /users/me 401', 'POST /token 200', 'GET /users/me 401'],
        'the validator fetched a token because /users/me said 401 (a 403 or 404 would skip /token and accept any key)',
      );
      const tokenCall = plugin.calls[1]!;
      assert.equal(tokenCall.body, `grant_type=${JWT_BEARER}&assertion=${merchant.apiKey}&client_id=${PLUGIN_CLIENT_ID}`);
      assert.equal(tokenCall.headers['X-iZettle-Application-Id'], PLUGIN_CLIENT_ID, 'the cloned header went along');

      // The auth plugin proper: the answer to GET /users/me without a token triggers a
      // token fetch, whose answer is stored, and the replay carries the bearer.
      plugin.calls.length = 0;
      const me = await plugin.rest('GET', '/users/me');
      assert.deepEqual(
        plugin.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
        ['GET /users/me 401', 'POST /token 200', 'GET /users/me 200'],
      );
      assert.equal(typeof plugin.token?.access_token, 'string');
      assert.ok(Number.isInteger(plugin.token?.expires_in));
      assert.equal(plugin.calls[2]!.headers.Authorization, `Bearer ${plugin.token!.access_token}`);
      assert.equal(me.organizationUuid, merchant.organizationUuid);
      assert.equal(plugin.authFailed, false);
    });

    it('onboarding refuses a key of valid syntax that Herald did not issue: /token answers non-200 with {error, error_description}', async () => {
      const plugin = new PayPalPosPlugin(h.url, FAKE_API_KEY);
      assert.equal(await plugin.onboard(), false);
      assert.equal(plugin.authFailed, true);
      const tokenCall = plugin.calls.find((c) => c.path === '/token')!;
      assert.ok(tokenCall.status === 400 || tokenCall.status === 401, `token status ${tokenCall.status}`);
      const res = await wire(h.url, 'POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, tokenCall.body);
      const err = JSON.parse(res.text) as Record<string, unknown>;
      assert.equal(typeof err.error, 'string');
      assert.equal(typeof err.error_description, 'string');
    });

    it('a stale bearer: the 401 triggers one token fetch (carrying the stale Authorization) and one successful replay', async () => {
      const plugin = new PayPalPosPlugin(h.url, merchant.apiKey);
      plugin.token = { access_token: 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c3RhbGU', expires_in: 7200 };
      const list = await plugin.rest('GET', '/organizations/self/subscriptions');
      assert.ok(Array.isArray(list));
      assert.deepEqual(
        plugin.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
        ['GET /organizations/self/subscriptions 401', 'POST /token 200', 'GET /organizations/self/subscriptions 200'],
      );
      assert.match(plugin.calls[1]!.headers.Authorization ?? '', /^Bearer eyJhbGciOiJIUzI1NiJ9\./, 'the token request carried the stale bearer');
    });

    it('webhook registration: list, DELETE …/subscriptions/uuid/{uuid} with [] for our destination, create; list items meet the plugin\'s requirements', async () => {
      // Someone else's subscription in the same organization: left alone.
      const pos = new PayPalPosPlugin(h.url, merchant.apiKey);
      const foreign = await pos.rest('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['ProductCreated'],
        destination: `${receiver.origin}/elsewhere`,
        contactEmail: 'other@example.com',
      });
      const plugin = new PayPalPosPlugin(h.url, merchant.apiKey);
      receiver.respondWith((r) => plugin.handleWebhook(r));

      const first = await plugin.registerWebhook(destination);
      assert.equal(first.status, 'ACTIVE');
      assert.deepEqual(first.eventNames, PLUGIN_EVENTS);
      assert.equal(first.destination, destination);
      assert.equal(first.contactEmail, CONTACT_EMAIL);

      // Re-onboarding: the plugin holds the first key while the new subscription's
      // TestMessage arrives signed with a new one; the skip rule lets it through.
      plugin.calls.length = 0;
      const second = await plugin.registerWebhook(destination);
      const deletes = plugin.calls.filter((c) => c.method === 'DELETE');
      assert.deepEqual(deletes.map((c) => `${c.path} ${c.status}`), [`/organizations/self/subscriptions/uuid/${first.uuid} 204`]);
      assert.equal(deletes[0]!.body, '[]');
      assert.equal(deletes[0]!.headers['Content-Type'], 'application/json');
      assert.notEqual(second.uuid, first.uuid);
      assert.notEqual(second.signingKey, first.signingKey);

      const list = await plugin.rest('GET', '/organizations/self/subscriptions');
      assert.ok(Array.isArray(list));
      const items = list.map(parseSubscription);
      for (const item of items) {
        assert.ok(isValidUuid(item.uuid));
        assert.equal(typeof item.signingKey, 'string', 'list items carry signingKey');
        assert.equal(typeof item.status, 'string', 'and status');
      }
      assert.deepEqual(items.filter((s) => s.destination === destination).map((s) => s.uuid), [second.uuid]);
      assert.ok(items.some((s) => s.uuid === foreign.uuid), 'the other destination\'s subscription is untouched');

      // Both creates sent a TestMessage, which the plugin answered 200 without a check.
      const tests = receiver.requests.filter((r) => r.path === '/wp-json/zettle/v1/webhook/listen');
      assert.equal(tests.length, 2);
      for (const t of tests) {
        assert.equal(eventNameOf(t), 'TestMessage');
        const env = t.json as { payload: string };
        assert.deepEqual(JSON.parse(env.payload), { data: 'payload' }, 'the payload the skip rule looks for');
      }
      assert.deepEqual(plugin.webhookLog.map((l) => l.outcome), ['skipped-check', 'skipped-check']);
    });

    it('InventoryBalanceChanged: verified like the plugin does; its own change (externalUuid) ignored, the POS\'s applied as after − before', async () => {
      const plugin = new PayPalPosPlugin(h.url, merchant.apiKey);
      receiver.respondWith((r) => plugin.handleWebhook(r));
      await plugin.registerWebhook(destination);
      // The merchant's point of sale: another key of the organization, used as a bearer.
      const posKey = await newMerchant(h, ['READ:PRODUCT', 'WRITE:PRODUCT'], merchant.organizationUuid);
      const pos = (method: string, path: string, body: unknown) =>
        wire(h.url, method, path, { Authorization: posKey.auth, 'Content-Type': 'application/json' }, JSON.stringify(body));
      const created = await pos('POST', '/organizations/self/products', productBody('Bryggkaffe'));
      assert.equal(created.status, 201, created.text);
      const product = JSON.parse(created.text) as { uuid: string; variants: { uuid: string }[] };
      const variantUuid = product.variants[0]!.uuid;
      assert.equal((await pos('POST', '/organizations/self/inventory/tracking', { productUuid: product.uuid })).status, 201);
      await h.settle();
      receiver.reset();
      receiver.respondWith((r) => plugin.handleWebhook(r));
      plugin.webhookLog.length = 0;

      // The plugin's own stock sync, tagged with its identifier (its movements' identifier).
      await plugin.rest('PUT', '/organizations/self/inventory/balances', {
        externalUuid: plugin.integrationUuid,
        changes: [{ productUuid: product.uuid, variantUuid, balance: '10' }],
      });
      await h.settle();
      // A sale-like change at the point of sale.
      const res = await pos('PUT', '/organizations/self/inventory/balances', { changes: [{ productUuid: product.uuid, variantUuid, balance: '7' }] });
      assert.equal(res.status, 200, res.text);
      await h.settle();

      const deliveries = receiver.requests.filter((r) => eventNameOf(r) === 'InventoryBalanceChanged');
      assert.equal(deliveries.length, 2);
      for (const d of deliveries) {
        assert.equal(headerCI(d, 'x-izettle-signature'), hmacHex(plugin.listener!.signingKey!, `${(d.json as { timestamp: string }).timestamp}.${(d.json as { payload: string }).payload}`));
      }
      const payloads = deliveries.map((d) => JSON.parse((d.json as { payload: string }).payload) as { externalUuid?: unknown });
      assert.equal(payloads[0]!.externalUuid, plugin.integrationUuid, 'the change request\'s externalUuid is echoed (waiting on (a))');
      assert.equal(payloads[1]!.externalUuid, null, 'no externalUuid sent: null');
      assert.deepEqual(
        plugin.webhookLog.map((l) => `${l.eventName} ${l.outcome}`),
        ['InventoryBalanceChanged ignored-own-change', 'InventoryBalanceChanged handled'],
      );
      assert.equal(plugin.stock.get(variantUuid), -3, 'the POS change 10 -> 7 applied as after − before');
      assert.ok(receiver.requests.length === 2, 'both answered 200 at once, no retries');
    });

    it('a delivery the plugin cannot verify is refused (the check is not vacuous)', async () => {
      const plugin = new PayPalPosPlugin(h.url, merchant.apiKey);
      receiver.respondWith((r) => plugin.handleWebhook(r));
      await plugin.registerWebhook(destination);
      const genuine = receiver.requests.at(-1)!;
      const env = genuine.json as Record<string, string>;
      const forged: ReceivedRequest = { ...genuine, body: JSON.stringify({ ...env, eventName: 'ProductDeleted', payload: '{"uuid":"x"}' }) };
      forged.json = JSON.parse(forged.body);
      assert.equal(plugin.handleWebhook(forged).status, 401);
    });
  });
}
