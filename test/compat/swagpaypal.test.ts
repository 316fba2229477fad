// Client compatibility: Shopware's SwagPayPal Zettle POS integration, re-implemented
// here from a written description of its wire behaviour (/tmp/research-swag.md), not
// from its code. What it relies on:
// - Every answer goes through typed setters under PHP strict_types: a JSON value of
//   the wrong type is a TypeError; null is skipped; unknown keys are ignored; reading a
//   field that never arrived is an Error.
// - The API key is decoded (3 base64url segments): header alg/typ/kid strings; claims
//   iss/aud/sub/type/client_id strings, renewed a bool, scope an array, user an object
//   of strings. client_id tells its own inventory changes apart (updated.clientUuid).
// - POST /token/ (trailing slash), form-encoded grant_type, client_id (the partner id),
//   assertion; expires_in an int above 3600 (tokens are cached for expires_in − 1 h).
//   Errors {error, error_description}.
// - Subscriptions: POST /organizations/self/subscriptions/ with a uuid made from a hex id
//   by forcing the version nibble to 1; PUT /organizations/self/subscriptions/{uuid}/
//   with If-Match: *; DELETE /organizations/self/subscriptions/uuid/{uuid}/. Errors
//   need developerMessage; errorType SUBSCRIPTION_ALREADY_EXIST and
//   SUBSCRIPTION_NOT_FOUND drive re-registration (the same uuid is created again).
// - Receiving: TestMessage answered 204 before any signature check; otherwise
//   x-izettle-signature (any case) must equal hex HMAC-SHA256 of
//   stripslashes(timestamp + "." + payload); InventoryBalanceChanged needs `updated`
//   {uuid, timestamp, userType strings, clientUuid string|null} and string balances.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import type { TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type ReceiverAnswer, type TestReceiver } from '../helpers/receiver.js';
import {
  base64UrlDecodeStrict,
  eventNameOf,
  headerCI,
  hmacHex,
  newMerchant,
  phpJsonDecode,
  phpStripslashes,
  productBody,
  startCompatHerald,
  wire,
  type CompatHerald,
} from './support.js';

const PARTNER_CLIENT_ID = '48804990-9c6d-4579-9c39-eae6d93e5f94';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPES = ['READ:PURCHASE', 'READ:FINANCE', 'READ:USERINFO', 'READ:PRODUCT', 'WRITE:PRODUCT'] as const;

// ---- PosStruct::assign under strict_types -------------------------------------------

type Kind = 'string' | 'int' | 'float' | 'bool' | 'array' | 'mixed' | Struct | { listOf: Struct };
interface Struct {
  name: string;
  fields: Record<string, Kind>;
}

class PhpTypeError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Maps decoded JSON onto a struct the way PosStruct::assign does; throws PhpTypeError on a type mismatch. */
function assign(struct: Struct, data: unknown, path = struct.name): Record<string, unknown> {
  if (!isObject(data) || Array.isArray(data)) throw new PhpTypeError(`${path}: expected an object, got ${JSON.stringify(data)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const kind = struct.fields[key];
    if (kind === undefined || value === null) continue; // no setter / null skipped
    const at = `${path}.${key}`;
    const fail = () => {
      throw new PhpTypeError(`${at}: ${JSON.stringify(value)} does not fit ${typeof kind === 'string' ? kind : 'struct'}`);
    };
    let ok: boolean;
    if (kind === 'string') ok = typeof value === 'string';
    else if (kind === 'int') ok = Number.isInteger(value);
    else if (kind === 'float') ok = typeof value === 'number';
    else if (kind === 'bool') ok = typeof value === 'boolean';
    else if (kind === 'array') ok = isObject(value);
    else if (kind === 'mixed') ok = true;
    else if ('listOf' in kind) {
      if (!Array.isArray(value)) fail();
      out[key] = (value as unknown[]).map((v, i) => assign(kind.listOf, v, `${at}[${i}]`));
      continue;
    } else {
      out[key] = assign(kind, value, at);
      continue;
    }
    if (!ok) fail();
    out[key] = value;
  }
  return out;
}

/** Reading a typed property that was never set: a PHP Error. */
function read<T>(struct: Record<string, unknown>, key: string): T {
  if (!(key in struct)) throw new Error(`Typed property ${key} must not be accessed before initialization`);
  return struct[key] as T;
}

const ApiKeyHeader: Struct = { name: 'Header', fields: { alg: 'string', typ: 'string', kid: 'string' } };
const ApiKeyUser: Struct = { name: 'User', fields: { userType: 'string', uuid: 'string', orgUuid: 'string', userRole: 'string' } };
const ApiKeyPayload: Struct = {
  name: 'Payload',
  fields: {
    iss: 'string',
    aud: 'string',
    sub: 'string',
    type: 'string',
    client_id: 'string',
    exp: 'mixed',
    iat: 'mixed',
    renewed: 'bool',
    scope: 'array',
    user: ApiKeyUser,
  },
};
const Token: Struct = { name: 'Token', fields: { access_token: 'string', expires_in: 'int', refresh_token: 'string' } };
const TokenError: Struct = { name: 'PosTokenError', fields: { error: 'string', error_description: 'string' } };
const Violation: Struct = { name: 'Violation', fields: { propertyName: 'string', developerMessage: 'string', constraintType: 'string' } };
const ApiError: Struct = { name: 'PosApiError', fields: { developerMessage: 'string', errorType: 'string', violations: { listOf: Violation } } };
const SubscriptionResponse: Struct = {
  name: 'SubscriptionResponse',
  fields: {
    uuid: 'string',
    transportName: 'string',
    eventNames: 'array',
    updated: 'string',
    destination: 'string',
    contactEmail: 'string',
    status: 'string',
    signingKey: 'string',
    clientId: 'string',
  },
};
const Webhook: Struct = {
  name: 'Webhook',
  fields: { organizationUuid: 'string', messageUuid: 'string', eventName: 'string', timestamp: 'string', payload: 'string' },
};
const Balance: Struct = {
  name: 'Balance',
  fields: { organizationUuid: 'string', locationUuid: 'string', productUuid: 'string', variantUuid: 'string', balance: 'string' },
};
const Updated: Struct = { name: 'Updated', fields: { uuid: 'string', timestamp: 'string', userType: 'string', clientUuid: 'string' } };
const InventoryBalanceChanged: Struct = {
  name: 'InventoryBalanceChanged',
  fields: { organizationUuid: 'string', updated: Updated, balanceBefore: { listOf: Balance }, balanceAfter: { listOf: Balance } },
};

// ---- the plugin ------------------------------------------------------------------

class PosApiException extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** UuidConverter::convertUuidToV1: a Shopware hex id with its version nibble forced to 1. */
const convertUuidToV1 = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-1${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

/** ApiKeyDecoder: three segments, each valid base64url; header and payload JSON onto the structs. */
function decodeApiKey(key: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const segments = key.split('.');
  if (segments.length !== 3) throw new Error('InvalidApiKeyException: number of segments');
  const [h, p, s] = segments as [string, string, string];
  base64UrlDecodeStrict(s); // the signature must be base64url; it is never verified
  const header = phpJsonDecode(base64UrlDecodeStrict(h).toString('utf8'));
  const payload = phpJsonDecode(base64UrlDecodeStrict(p).toString('utf8'));
  if (header === null) throw new Error('InvalidApiKeyException: header');
  if (payload === null) throw new Error('InvalidApiKeyException: payload');
  return { header: assign(ApiKeyHeader, header), payload: assign(ApiKeyPayload, payload) };
}

type Outcome = 204 | 400 | 401 | 404 | 503;

class SwagPayPalPos {
  readonly subscriptionUuid: string;
  readonly apiKey: { header: Record<string, unknown>; payload: Record<string, unknown> };
  signingKey: string | null = null;
  private token: Record<string, unknown> | null = null;
  /** Stock changes applied to the shop, per variant. */
  readonly applied: { variantUuid: string; change: number }[] = [];
  readonly webhookLog: { eventName: string; status: Outcome; note?: string }[] = [];
  readonly calls: { method: string; path: string; status: number; headers: Record<string, string> }[] = [];

  constructor(
    private readonly base: string,
    private readonly rawApiKey: string,
    /** The STORE location's uuid, from the inventory context. */
    private readonly storeUuid: string,
    /** The POS sales channel's id, a Shopware hex id (RFC 4122 v4 bits, as Uuid::randomHex makes). */
    readonly salesChannelId = randomUUID().replace(/-/g, ''),
  ) {
    this.apiKey = decodeApiKey(rawApiKey);
    this.subscriptionUuid = convertUuidToV1(salesChannelId);
  }

  /** TokenClient: POST /token/ form-encoded; PosInvalidApiCredentialsException on an error or empty answer. */
  async fetchToken(): Promise<Record<string, unknown>> {
    const form = new URLSearchParams([
      ['grant_type', JWT_BEARER],
      ['client_id', PARTNER_CLIENT_ID],
      ['assertion', this.rawApiKey],
    ]).toString();
    const r = await wire(
      this.base,
      'POST',
      '/token/',
      { 'User-Agent': 'GuzzleHttp/7', 'Content-Type': 'application/x-www-form-urlencoded', 'X-iZettle-Application-Id': PARTNER_CLIENT_ID },
      form,
    );
    if (r.status >= 400) {
      const err = assign(TokenError, phpJsonDecode(r.text));
      throw new Error(`PosInvalidApiCredentialsException: ${read<string>(err, 'error')}: ${read<string>(err, 'error_description')}`);
    }
    const data = phpJsonDecode(r.text);
    if (data === null || (isObject(data) && Object.keys(data).length === 0)) throw new Error('PosInvalidApiCredentialsException: empty');
    if (!/"expires_in"\s*:\s*-?\d+\s*[,}]/.test(r.text)) throw new PhpTypeError(`expires_in is not a JSON int: ${r.text}`);
    return assign(Token, data);
  }

  /** TokenResource: a cached token counts as valid while now + expires_in − 1 h > now. */
  static tokenIsCacheable(token: Record<string, unknown>): boolean {
    return read<number>(token, 'expires_in') - 3600 > 0;
  }

  private async accessToken(): Promise<string> {
    this.token ??= await this.fetchToken();
    return read<string>(this.token, 'access_token');
  }

  /** PosClient: bearer and partner header on every call; JSON bodies; If-Match: * on PUT; errors mapped to PosApiError. */
  async request(method: string, path: string, json?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {
      'User-Agent': 'GuzzleHttp/7',
      Authorization: `Bearer ${await this.accessToken()}`,
      'X-iZettle-Application-Id': PARTNER_CLIENT_ID,
      ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(method === 'PUT' ? { 'If-Match': '*' } : {}),
    };
    const r = await wire(this.base, method, path, headers, json === undefined ? undefined : JSON.stringify(json));
    this.calls.push({ method, path, status: r.status, headers });
    if (r.status >= 400) {
      const body = phpJsonDecode(r.text);
      if (body === null) throw new Error(`Guzzle ${r.status}: ${r.text}`);
      const err = assign(ApiError, body);
      const message = read<string>(err, 'developerMessage'); // required by the exception
      throw new PosApiException(r.status, err.errorType as string | undefined, message);
    }
    return phpJsonDecode(r.text);
  }

  private async create(destination: string, contactEmail: string): Promise<Record<string, unknown>> {
    const answer = await this.request('POST', '/organizations/self/subscriptions/', {
      uuid: this.subscriptionUuid,
      transportName: 'WEBHOOK',
      eventNames: ['InventoryBalanceChanged'],
      destination,
      contactEmail,
    });
    if (answer === null) throw new Error('WebhookNotRegisteredException');
    const sub = assign(SubscriptionResponse, answer);
    this.signingKey = read<string>(sub, 'signingKey');
    return sub;
  }

  /** WebhookService::registerWebhook. */
  async registerWebhook(destination: string, contactEmail: string): Promise<'created' | 'updated'> {
    if (this.signingKey !== null) {
      try {
        await this.request('PUT', `/organizations/self/subscriptions/${this.subscriptionUuid}/`, {
          eventNames: ['InventoryBalanceChanged'],
          destination,
          contactEmail,
        });
        return 'updated';
      } catch (err) {
        if (!(err instanceof PosApiException) || err.errorType !== 'SUBSCRIPTION_NOT_FOUND') throw err;
        this.signingKey = null;
      }
    }
    try {
      await this.create(destination, contactEmail);
    } catch (err) {
      if (!(err instanceof PosApiException) || err.errorType !== 'SUBSCRIPTION_ALREADY_EXIST') throw err;
      await this.unregisterWebhook(); // a no-op without a signing key: the create repeats as is
      await this.create(destination, contactEmail);
    }
    return 'created';
  }

  /** WebhookService::unregisterWebhook. */
  async unregisterWebhook(): Promise<void> {
    if (this.signingKey === null) return;
    await this.request('DELETE', `/organizations/self/subscriptions/uuid/${this.subscriptionUuid}/`);
    this.signingKey = null;
  }

  /** WebhookController::executeWebhook, and the InventoryBalanceChanged handler. */
  handleWebhook(r: ReceivedRequest): ReceiverAnswer {
    const answer = (status: Outcome, eventName: string, note?: string): ReceiverAnswer => {
      this.webhookLog.push({ eventName, status, note });
      return { status, body: '' };
    };
    const data = phpJsonDecode(r.body);
    if (!isObject(data) || Object.keys(data).length === 0) return answer(400, '?', 'No webhook data sent');
    let webhook: Record<string, unknown>;
    try {
      webhook = assign(Webhook, data);
    } catch (err) {
      return answer(400, String(data.eventName), String(err));
    }
    const eventName = read<string>(webhook, 'eventName');
    if (eventName === 'TestMessage') return answer(204, eventName);
    const signature = headerCI(r, 'x-izettle-signature');
    if (signature === undefined) return answer(401, eventName, 'Request not signed');
    if (this.signingKey === null) return answer(503, eventName, 'WebhookNotRegistered');
    const expected = hmacHex(this.signingKey, phpStripslashes(`${read<string>(webhook, 'timestamp')}.${read<string>(webhook, 'payload')}`));
    if (expected !== signature) return answer(401, eventName, 'Signature is invalid');
    if (eventName !== 'InventoryBalanceChanged') return answer(204, eventName, 'no handler');
    try {
      const note = this.onInventoryBalanceChanged(read<string>(webhook, 'payload'));
      return answer(204, eventName, note);
    } catch (err) {
      return answer(400, eventName, `An error occurred during execution of webhook: ${String(err)}`);
    }
  }

  private onInventoryBalanceChanged(payloadText: string): string {
    const payload = assign(InventoryBalanceChanged, phpJsonDecode(payloadText));
    const updated = read<Record<string, unknown>>(payload, 'updated');
    // The typed getters of Updated: every field but clientUuid is required.
    read<string>(updated, 'uuid');
    read<string>(updated, 'timestamp');
    read<string>(updated, 'userType');
    const clientUuid = updated.clientUuid as string | undefined;
    if (clientUuid !== undefined && clientUuid === read<string>(this.apiKey.payload, 'client_id')) return 'own change';
    // Here the plugin loads its inventory context from the v2 inventory API
    // (GET /organizations/self/locations/ and .../inventory/locations/{store}/): the
    // model is given the STORE uuid that `before` loaded the same way (see the test
    // "the inventory context the webhook handler loads").
    const before = read<Record<string, unknown>[]>(payload, 'balanceBefore');
    const afterList = read<Record<string, unknown>[]>(payload, 'balanceAfter');
    for (const b of before) {
      if (read(b, 'locationUuid') !== this.storeUuid) continue;
      const a = afterList.find((x) => read(x, 'locationUuid') === this.storeUuid && read(x, 'variantUuid') === read(b, 'variantUuid'));
      if (!a) continue;
      const change = parseInt(read<string>(a, 'balance'), 10) - parseInt(read<string>(b, 'balance'), 10);
      if (change !== 0) this.applied.push({ variantUuid: read<string>(b, 'variantUuid'), change });
    }
    return 'applied';
  }
}

for (const backend of testDatabases()) {
  describe(`SwagPayPal (Shopware) against Herald: ${backend.name}`, () => {
    let h: CompatHerald;
    let receiver: TestReceiver;
    let merchant: TestCredential;
    let storeUuid: string;
    const CONTACT = 'shop@example.com';
    const pathFor = (salesChannelId: string) => `/api/_action/paypal/pos/webhook/execute/${salesChannelId}`;
    const destinationFor = (p: SwagPayPalPos) => `${receiver.origin}${pathFor(p.salesChannelId)}`;
    /** The shop's sales channels by webhook path; an unknown one is WebhookIdInvalidException (404). */
    const channels = new Map<string, SwagPayPalPos>();
    const route = (r: ReceivedRequest): ReceiverAnswer => channels.get(r.path)?.handleWebhook(r) ?? { status: 404 };
    /** A POS sales channel of the shop, reachable at its webhook route. */
    const newChannel = () => {
      const p = new SwagPayPalPos(h.url, merchant.apiKey, storeUuid);
      channels.set(pathFor(p.salesChannelId), p);
      return p;
    };
    const requestsOf = (p: SwagPayPalPos) => receiver.requests.filter((r) => r.path === pathFor(p.salesChannelId));

    before(async () => {
      h = await startCompatHerald(backend);
      receiver = await startReceiver();
      merchant = await newMerchant(h, [...SCOPES]);
      // The plugin finds the STORE location through the v2 inventory API (InventoryContextFactory).
      const locs = await wire(h.url, 'GET', '/organizations/self/locations/', { Authorization: merchant.auth });
      assert.equal(locs.status, 200, locs.text);
      storeUuid = (JSON.parse(locs.text) as { uuid: string; type: string }[]).find((l) => l.type === 'STORE')!.uuid;
    });
    after(async () => {
      await receiver?.close();
      await h?.stop();
    });
    beforeEach(() => {
      receiver.reset();
      receiver.respondWith(route);
    });

    it('the inventory context the webhook handler loads: all four location types, and the store\'s inventory', async () => {
      const token = await wire(h.url, 'POST', '/token/', { 'Content-Type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: 'partner', assertion: merchant.apiKey }).toString());
      const bearer = { Authorization: `Bearer ${(JSON.parse(token.text) as { access_token: string }).access_token}` };
      const locs = JSON.parse((await wire(h.url, 'GET', '/organizations/self/locations/', bearer)).text) as Record<string, unknown>[];
      // Location structs: uuid, type, name, description strings, default a boolean; every type present once.
      for (const l of locs) {
        for (const k of ['uuid', 'type', 'name', 'description']) assert.equal(typeof read(l, k), 'string', k);
        assert.equal(typeof read(l, 'default'), 'boolean');
      }
      assert.deepEqual(locs.map((l) => l.type).sort(), ['BIN', 'SOLD', 'STORE', 'SUPPLIER']);
      const status = await wire(h.url, 'GET', `/organizations/self/inventory/locations/${storeUuid}/`, bearer);
      assert.equal(status.status, 200, status.text);
      const inv = JSON.parse(status.text) as Record<string, unknown>;
      assert.equal(read(inv, 'locationUuid'), storeUuid);
      assert.ok(Array.isArray(read(inv, 'trackedProducts')), 'trackedProducts is required');
      assert.ok(Array.isArray(read(inv, 'variants')));
    });

    it('the API key decodes into the plugin\'s header and payload structs (strict types)', async () => {
      const { header, payload } = decodeApiKey(merchant.apiKey);
      for (const k of ['alg', 'typ', 'kid']) assert.equal(typeof read(header, k), 'string', `header.${k}`);
      for (const k of ['iss', 'aud', 'sub', 'type', 'client_id']) assert.equal(typeof read(payload, k), 'string', `claim ${k}`);
      assert.equal(read(payload, 'renewed'), false);
      assert.ok(Array.isArray(read(payload, 'scope')));
      const user = read<Record<string, unknown>>(payload, 'user');
      for (const k of ['userType', 'uuid', 'orgUuid', 'userRole']) assert.equal(typeof read(user, k), 'string', `user.${k}`);
      assert.equal(user.orgUuid, merchant.organizationUuid);
      // client_id is the key's own OAuth client, the one its changes are reported with.
      const key = await h.admin(`/admin/organizations/${merchant.organizationUuid}/api-keys/${merchant.apiKeyId}`);
      assert.equal(read(payload, 'client_id'), ((await key.json()) as { clientId: string }).clientId);
    });

    it('POST /token/ with the partner client_id: a string access_token and an int expires_in above 3600; a bad key gets {error, error_description}', async () => {
      const plugin = new SwagPayPalPos(h.url, merchant.apiKey, storeUuid);
      const token = await plugin.fetchToken();
      assert.equal(typeof read(token, 'access_token'), 'string');
      assert.ok(SwagPayPalPos.tokenIsCacheable(token), `expires_in ${String(token.expires_in)} leaves room for the 1 h margin`);

      const other = await newMerchant(h, ['READ:PRODUCT']);
      const revoked = new SwagPayPalPos(h.url, other.apiKey, storeUuid);
      await h.admin(`/admin/organizations/${other.organizationUuid}/api-keys/${other.apiKeyId}`, { method: 'DELETE' });
      await assert.rejects(revoked.fetchToken(), /PosInvalidApiCredentialsException: \w+: .+/);
    });

    it('create POST …/subscriptions/ (uuid with version nibble 1); the TestMessage is answered 204 without a signature check', async () => {
      const plugin = newChannel();
      assert.match(plugin.subscriptionUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(await plugin.registerWebhook(destinationFor(plugin), CONTACT), 'created');
      assert.equal(typeof plugin.signingKey, 'string');
      assert.deepEqual(plugin.calls.map((c) => `${c.method} ${c.path} ${c.status}`), ['POST /organizations/self/subscriptions/ 200']);
      assert.deepEqual(plugin.webhookLog, [{ eventName: 'TestMessage', status: 204, note: undefined }], 'Herald took 204 for the TestMessage');
    });

    it('update PUT …/{uuid}/ with If-Match: * (200, empty body); duplicate create is SUBSCRIPTION_ALREADY_EXIST; after DELETE …/uuid/{uuid}/ an update is SUBSCRIPTION_NOT_FOUND and the same uuid is created again', async () => {
      const plugin = newChannel();
      const destination = destinationFor(plugin);
      assert.equal(await plugin.registerWebhook(destination, CONTACT), 'created');
      const firstKey = plugin.signingKey;

      assert.equal(await plugin.registerWebhook(destination, 'new-contact@example.com'), 'updated');
      const put = plugin.calls.at(-1)!;
      assert.equal(`${put.method} ${put.path} ${put.status}`, `PUT /organizations/self/subscriptions/${plugin.subscriptionUuid}/ 200`);
      assert.equal(put.headers['If-Match'], '*');
      assert.equal(plugin.signingKey, firstKey, 'an update keeps the key');

      // Another installation of the same sales channel, without the key: create fails
      // with SUBSCRIPTION_ALREADY_EXIST, its unregister is a no-op, the second create fails alike.
      const twin = new SwagPayPalPos(h.url, merchant.apiKey, storeUuid, plugin.salesChannelId);
      const dup = await twin.registerWebhook(destination, CONTACT).then(
        () => assert.fail('a duplicate uuid was accepted'),
        (err: unknown) => err,
      );
      assert.ok(dup instanceof PosApiException, String(dup));
      assert.equal(dup.errorType, 'SUBSCRIPTION_ALREADY_EXIST');
      assert.equal(dup.status, 400);
      assert.ok(dup.message.length > 0, 'developerMessage');
      assert.deepEqual(twin.calls.map((c) => `${c.method} ${c.status}`), ['POST 400', 'POST 400']);

      await plugin.unregisterWebhook();
      const del = plugin.calls.at(-1)!;
      assert.equal(`${del.method} ${del.path}`, `DELETE /organizations/self/subscriptions/uuid/${plugin.subscriptionUuid}/`);
      assert.ok(del.status >= 200 && del.status < 300, `DELETE answered ${del.status}`);
      assert.equal(plugin.signingKey, null);

      // The plugin still believes it is registered (a stale key): the update says
      // SUBSCRIPTION_NOT_FOUND, the key is dropped and the same uuid is created anew.
      plugin.signingKey = firstKey;
      plugin.calls.length = 0;
      assert.equal(await plugin.registerWebhook(destination, CONTACT), 'created');
      assert.deepEqual(plugin.calls.map((c) => `${c.method} ${c.status}`), ['PUT 404', 'POST 200']);
      assert.notEqual(plugin.signingKey, firstKey, 'a new signing key');
    });

    it('error bodies fit PosApiError: developerMessage a string, errorType a string, violations of string fields', async () => {
      const plugin = new SwagPayPalPos(h.url, merchant.apiKey, storeUuid);
      const unknown = convertUuidToV1(randomUUID().replace(/-/g, ''));
      const err = await plugin
        .request('PUT', `/organizations/self/subscriptions/${unknown}/`, { eventNames: ['InventoryBalanceChanged'], destination: 'https://x.example', contactEmail: CONTACT })
        .then(() => assert.fail('PUT of an unknown subscription succeeded'), (e: unknown) => e);
      assert.ok(err instanceof PosApiException, String(err));
      assert.equal(err.errorType, 'SUBSCRIPTION_NOT_FOUND');
      const invalid = await plugin
        .request('POST', '/organizations/self/subscriptions/', { uuid: 'nope', transportName: 'WEBHOOK', eventNames: [], destination: 'x', contactEmail: 'y' })
        .then(() => assert.fail('an invalid create succeeded'), (e: unknown) => e);
      assert.ok(invalid instanceof PosApiException, String(invalid));
      assert.equal(typeof invalid.errorType, 'string');
    });

    it('InventoryBalanceChanged: stripslashes-signed, `updated` of strings; changes made with its key (token or key itself) are its own by clientUuid; the POS\'s change is applied', async () => {
      const plugin = newChannel();
      await plugin.registerWebhook(destinationFor(plugin), CONTACT);

      // The merchant's point of sale: another key of the organization.
      const posKey = await newMerchant(h, ['READ:PRODUCT', 'WRITE:PRODUCT'], merchant.organizationUuid);
      const as = (auth: string) => (method: string, path: string, body: unknown) =>
        wire(h.url, method, path, { Authorization: auth, 'Content-Type': 'application/json' }, JSON.stringify(body));
      const pos = as(posKey.auth);
      const created = await pos('POST', '/organizations/self/products', productBody('Filterkaffe'));
      assert.equal(created.status, 201, created.text);
      const product = JSON.parse(created.text) as { uuid: string; variants: { uuid: string }[] };
      const variantUuid = product.variants[0]!.uuid;
      assert.equal((await pos('POST', '/organizations/self/inventory/tracking', { productUuid: product.uuid })).status, 201);
      const change = (balance: string) => ({ changes: [{ productUuid: product.uuid, variantUuid, balance }] });

      // 1. The plugin's own sync, with its access token.
      await plugin.request('PUT', '/organizations/self/inventory/balances', change('20'));
      await h.settle();
      // 2. A change made with the API key itself as the bearer: the same client.
      const direct = await as(merchant.auth)('PUT', '/organizations/self/inventory/balances', change('18'));
      assert.equal(direct.status, 200, direct.text);
      await h.settle();
      // 3. A sale at the point of sale.
      const sale = await pos('PUT', '/organizations/self/inventory/balances', change('15'));
      assert.equal(sale.status, 200, sale.text);
      await h.settle();

      const deliveries = requestsOf(plugin).filter((r) => eventNameOf(r) === 'InventoryBalanceChanged');
      assert.equal(deliveries.length, 3);
      const payloads = deliveries.map((d) => JSON.parse((d.json as { payload: string }).payload) as Record<string, unknown>);
      for (const p of payloads) {
        const updated = p.updated as Record<string, unknown> | undefined;
        assert.ok(updated && typeof updated === 'object', `updated is an object (waiting on (a)): ${JSON.stringify(p)}`);
        for (const k of ['uuid', 'timestamp', 'userType']) assert.equal(typeof updated[k], 'string', `updated.${k}`);
        assert.match(updated.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
        assert.equal(updated.userType, 'USER');
        for (const b of [...(p.balanceBefore as { balance: unknown }[]), ...(p.balanceAfter as { balance: unknown }[])]) {
          assert.equal(typeof b.balance, 'string', 'balances are JSON strings');
        }
      }
      const clientId = read<string>(plugin.apiKey.payload, 'client_id');
      assert.deepEqual(
        payloads.map((p) => (p.updated as { clientUuid?: unknown } | undefined)?.clientUuid),
        [clientId, clientId, read<string>(decodeApiKey(posKey.apiKey).payload, 'client_id')],
        'clientUuid is the acting key\'s client_id claim, with a minted token or the key itself',
      );
      assert.deepEqual(
        plugin.webhookLog.filter((l) => l.eventName === 'InventoryBalanceChanged').map((l) => `${l.status} ${l.note}`),
        ['204 own change', '204 own change', '204 applied'],
      );
      assert.deepEqual(plugin.applied, [{ variantUuid, change: -3 }]);
    });
  });
}
