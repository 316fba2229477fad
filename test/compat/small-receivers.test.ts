// Client compatibility: two small PHP receivers, re-implemented here from a written
// description of their behaviour (/tmp/research-nop.md, parts B and C), not from their
// code.
// hbackman/woocommerce-zettle (WordPress) relies on:
// - POST /token form (grant_type, client_id, assertion), exactly 200, access_token; the
//   access token is then decoded as a JWT with PHP's non-strict base64_decode (which
//   drops "-" and "_") and its numeric `exp` decides when to refresh.
// - Requests with Authorization, Content-Type: application/json and Content-Length
//   (0 on GET and DELETE, no body). Subscribes with POST
//   /organizations/self/subscriptions (a destination with a query string); disconnects
//   by listing and DELETEing every subscription.
// - Receiving (no signature check, answers 200 "0"): payload a JSON string;
//   ProductCreated/ProductUpdated/ProductDeleted read the top-level payload.uuid (the
//   first two re-fetch GET /organizations/self/products/{uuid}); InventoryBalanceChanged
//   sets stock from balanceAfter[] productUuid/variantUuid/intval(balance).
// syntax-society/izettle-webhook (PHP) relies on:
// - X-iZettle-Signature found by a case-sensitive key lookup in apache_request_headers()
//   (the names as sent); missing: 200 and nothing done.
// - HMAC-SHA256 hex of stripslashes(timestamp . "." . payload), compared with ===;
//   mismatch: 401.
// - PurchaseCreated: `created` parsed by new DateTime(), products[] name, variantName,
//   quantity (compared with 0), unitPrice (minor units); ProductUpdated: newEntity.name
//   and oldEntity.
// And, byte for byte: the request head carries `X-iZettle-Signature`, `Content-Type:
// application/json` and `User-Agent: PusherApplication (WebHookPushClient)` spelled so.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { testDatabases } from '../helpers/db.js';
import type { TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type ReceiverAnswer, type TestReceiver } from '../helpers/receiver.js';
import {
  eventNameOf,
  headerExact,
  hmacHex,
  isPhpArray,
  newMerchant,
  phpBase64DecodeLoose,
  phpJsonDecode,
  phpStripslashes,
  productBody,
  startCompatHerald,
  wire,
  type CompatHerald,
} from './support.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPES = ['READ:PRODUCT', 'WRITE:PRODUCT', 'READ:PURCHASE', 'WRITE:PURCHASE'] as const;

class PhpTypeError extends Error {}

// ---- hbackman/woocommerce-zettle ---------------------------------------------------

class HbackmanPlugin {
  accessToken: string | null = null;
  /** Stored from the create answer, never used. */
  signingKey: string | null = null;
  readonly products = new Map<string, { name: string; variable: boolean; variants: { uuid: string; sku: unknown; price: number }[] }>();
  readonly deleted: string[] = [];
  readonly stock: { productUuid: string; variantUuid: string; stock: number }[] = [];
  readonly errors: string[] = [];
  readonly calls: { method: string; path: string; status: number }[] = [];

  constructor(
    private readonly base: string,
    private readonly clientId: string,
    private readonly apiKey: string,
  ) {}

  /** refresh_access_token: wp_remote_post with a body array (http_build_query), exactly 200. */
  async refreshAccessToken(): Promise<void> {
    const form = new URLSearchParams([
      ['grant_type', JWT_BEARER],
      ['client_id', this.clientId],
      ['assertion', this.apiKey],
    ]).toString();
    const r = await wire(this.base, 'POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
    if (r.status !== 200) throw new Error(`token: ${r.status}`);
    this.accessToken = (JSON.parse(r.text) as { access_token: string }).access_token;
  }

  /** Support\Jwt::decode: three parts, header and payload through non-strict base64_decode into arrays. */
  static decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('invalid JWT');
    const asArray = (segment: string) => {
      const v = phpJsonDecode(phpBase64DecodeLoose(segment).toString('latin1'));
      if (!isPhpArray(v)) throw new PhpTypeError(`Return value must be of type array, ${v === null ? 'null' : typeof v} returned`);
      return v;
    };
    return { header: asArray(parts[0]!), payload: asArray(parts[1]!) };
  }

  /** get_zettle_access_token: refresh when there is none or its exp has passed (a missing exp counts as expired). */
  async token(): Promise<string> {
    if (this.accessToken !== null) {
      const exp = HbackmanPlugin.decodeJwt(this.accessToken).payload.exp;
      if (typeof exp === 'number' && exp >= Date.now() / 1000) return this.accessToken;
    }
    await this.refreshAccessToken();
    return this.accessToken!;
  }

  /** Zettle::json_request. */
  async jsonRequest(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const r = await wire(
      this.base,
      method,
      path,
      { Authorization: `Bearer ${await this.token()}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) },
      text,
    );
    this.calls.push({ method, path, status: r.status });
    return { status: r.status, json: phpJsonDecode(r.text) };
  }

  async connect(destination: string): Promise<void> {
    const r = await this.jsonRequest('POST', '/organizations/self/subscriptions', {
      uuid: uuidv1(),
      transportName: 'WEBHOOK',
      destination,
      contactEmail: 'webhook@hbackman.com',
      eventNames: ['ProductCreated', 'ProductUpdated', 'ProductDeleted', 'InventoryBalanceChanged'],
    });
    if (r.status < 200 || r.status > 299) throw new Error(`panic: subscribing answered ${r.status}`);
    this.signingKey = (r.json as { signingKey: string }).signingKey;
  }

  async disconnect(): Promise<void> {
    const r = await this.jsonRequest('GET', '/organizations/self/subscriptions');
    for (const uuid of (r.json as { uuid: string }[]).map((s) => s.uuid)) await this.jsonRequest('DELETE', `/organizations/self/subscriptions/${uuid}`);
  }

  /** Zettle::get_product: null on a non-2xx answer. */
  private async getProduct(uuid: string): Promise<Record<string, unknown> | null> {
    const r = await this.jsonRequest('GET', `/organizations/self/products/${uuid}`);
    return r.status >= 200 && r.status < 300 ? (r.json as Record<string, unknown>) : null;
  }

  /** admin-ajax.php?action=zettle_webhook: 200 "0", or 500 on a PHP error. */
  async handleWebhook(r: ReceivedRequest): Promise<ReceiverAnswer> {
    try {
      const body = phpJsonDecode(r.body);
      if (!isPhpArray(body)) throw new PhpTypeError('body is not an array');
      if (typeof body.payload !== 'string') throw new PhpTypeError('json_decode(): Argument #1 ($json) must be of type string');
      const payload = phpJsonDecode(body.payload);
      if (!isPhpArray(payload)) throw new PhpTypeError('payload is not an array');
      switch (body.eventName) {
        case 'ProductCreated':
        case 'ProductUpdated': {
          if (typeof payload.uuid !== 'string') throw new PhpTypeError(`${String(body.eventName)}: payload.uuid is ${JSON.stringify(payload.uuid)}`);
          const product = await this.getProduct(payload.uuid);
          if (product === null) throw new PhpTypeError('Zettle::get_product() returned null');
          const definitions = (product.variantOptionDefinitions as { definitions?: unknown[] } | undefined)?.definitions ?? [];
          this.products.set(product.uuid as string, {
            name: product.name as string,
            variable: definitions.length > 0,
            variants: (product.variants as { uuid: string; sku: unknown; price: { amount: number } }[]).map((v) => ({
              uuid: v.uuid,
              sku: v.sku,
              price: v.price.amount / 100,
            })),
          });
          break;
        }
        case 'ProductDeleted':
          if (typeof payload.uuid !== 'string') throw new PhpTypeError('ProductDeleted: payload.uuid missing');
          this.deleted.push(payload.uuid);
          break;
        case 'InventoryBalanceChanged':
          // (The plugin sleeps 2 s first.)
          for (const a of payload.balanceAfter as { productUuid: string; variantUuid: string; balance: unknown }[]) {
            this.stock.push({ productUuid: a.productUuid, variantUuid: a.variantUuid, stock: Math.trunc(Number(a.balance)) });
          }
          break;
        default: // TestMessage is a no-op; unknown events are ignored
      }
      return { status: 200, body: '0' };
    } catch (err) {
      this.errors.push(String(err));
      return { status: 500, body: 'PHP Fatal error' };
    }
  }
}

// ---- syntax-society/izettle-webhook ------------------------------------------------

/** PHP's new \DateTime() on an ISO-8601 string (Z, +HHMM or +HH:MM offsets, any fraction). */
function phpDateTime(v: unknown): Date {
  if (typeof v !== 'string') throw new PhpTypeError(`DateTime::__construct(): Argument #1 must be of type string, ${v === null ? 'null' : typeof v} given`);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) throw new Error(`DateTime::__construct(): Failed to parse time string (${v})`);
  const zone = m[3] === undefined ? 'Z' : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  return new Date(`${m[1]}${(m[2] ?? '').slice(0, 4)}${zone}`);
}

class SyntaxSocietyReceiver {
  readonly sales: { created: Date; lines: { name: string; variantName: string; quantity: number; unitPrice: number }[] }[] = [];
  readonly renamed: { from: string; to: string }[] = [];
  readonly outcomes: string[] = [];

  constructor(private readonly signingKey: string) {}

  handle(r: ReceivedRequest): ReceiverAnswer {
    // apache_request_headers(): names as sent; array_key_exists is case-sensitive.
    const signature = headerExact(r, 'X-iZettle-Signature');
    if (!signature) {
      this.outcomes.push('unsigned: ignored');
      return { status: 200, body: '' };
    }
    const event = phpJsonDecode(r.body) as Record<string, string>;
    const expected = hmacHex(this.signingKey, phpStripslashes(`${event.timestamp}.${event.payload}`));
    if (expected !== signature) {
      this.outcomes.push(`${event.eventName}: invalid signature`);
      return { status: 401, headers: { 'content-type': 'text/html' }, body: '<h1>401 Unauthorized</h1>' };
    }
    try {
      if (typeof event.payload !== 'string') throw new PhpTypeError('payload must be a string');
      const payload = phpJsonDecode(event.payload) as Record<string, unknown>;
      if (event.eventName === 'PurchaseCreated') {
        const created = phpDateTime(payload.created);
        const lines = (payload.products as Record<string, unknown>[]).map((p) => {
          const quantity = Number(p.quantity);
          assert.ok(quantity > 0 || quantity < 0, `quantity compares with 0: ${JSON.stringify(p.quantity)}`);
          assert.ok(Number.isInteger(p.unitPrice), `unitPrice is an int: ${JSON.stringify(p.unitPrice)}`);
          return { name: String(p.name), variantName: String(p.variantName), quantity, unitPrice: (p.unitPrice as number) / 100 };
        });
        this.sales.push({ created, lines });
      } else if (event.eventName === 'ProductUpdated') {
        const newEntity = payload.newEntity as Record<string, unknown>;
        const oldEntity = payload.oldEntity;
        if (!isPhpArray(oldEntity)) throw new PhpTypeError('oldEntity is not an array');
        this.renamed.push({ from: String(oldEntity.name), to: String(newEntity.name) });
      }
      this.outcomes.push(`${event.eventName}: handled`);
      return { status: 200, body: '' };
    } catch (err) {
      if (err instanceof PhpTypeError) {
        this.outcomes.push(`${event.eventName}: ${err.message}`);
        return { status: 500, body: '' };
      }
      this.outcomes.push(`${event.eventName}: logged ${String(err)}`);
      return { status: 200, body: '' };
    }
  }
}

// ---- a raw TCP receiver: the request head as bytes ----------------------------------

interface RawRequest {
  head: string;
  body: string;
}

/** An HTTP/1.1 receiver on a bare socket: records each request's head bytes and answers 200. */
async function startRawReceiver(): Promise<{ url: string; requests: RawRequest[]; close(): Promise<void> }> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buf.subarray(0, headEnd + 4).toString('latin1');
        let end: number;
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          const last = buf.indexOf('\r\n0\r\n\r\n', headEnd + 2);
          if (last < 0) return;
          end = last + 7;
        } else {
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < headEnd + 4 + length) return;
          end = headEnd + 4 + length;
        }
        requests.push({ head, body: buf.subarray(headEnd + 4, end).toString('utf8') });
        buf = buf.subarray(end);
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/raw`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const backend of testDatabases()) {
  describe(`small receivers (hbackman/woocommerce-zettle, syntax-society/izettle-webhook) against Herald: ${backend.name}`, () => {
    let h: CompatHerald;
    let receiver: TestReceiver;
    let merchant: TestCredential;
    const call = (cred: TestCredential, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      wire(h.url, method, path, { Authorization: cred.auth, 'Content-Type': 'application/json', ...headers }, body === undefined ? undefined : JSON.stringify(body));

    before(async () => {
      h = await startCompatHerald(backend);
      receiver = await startReceiver();
      merchant = await newMerchant(h, [...SCOPES]);
    });
    after(async () => {
      await receiver?.close();
      await h?.stop();
    });
    beforeEach(() => receiver.reset());

    describe('hbackman/woocommerce-zettle', () => {
      it('token: exactly 200; the access token decodes with PHP\'s non-strict base64_decode, with a numeric exp ahead', async () => {
        const plugin = new HbackmanPlugin(h.url, 'wc-client-id', merchant.apiKey);
        await plugin.refreshAccessToken();
        for (let i = 0; i < 5; i++) {
          // Several tokens: their claims differ (times, ids), the check must hold for each.
          await plugin.refreshAccessToken();
          const { payload } = HbackmanPlugin.decodeJwt(plugin.accessToken!);
          assert.equal(typeof payload.exp, 'number');
          assert.ok((payload.exp as number) > Date.now() / 1000, 'not expired');
        }
        const before = plugin.accessToken;
        assert.equal(await plugin.token(), before, 'a token with exp ahead is reused, not refreshed');
      });

      it('subscribes (destination with a query string), reads product events by top-level payload.uuid and stock from balanceAfter; disconnects by DELETE', async () => {
        const plugin = new HbackmanPlugin(h.url, 'wc-client-id', merchant.apiKey);
        const path = '/wp-admin/admin-ajax.php?action=zettle_webhook';
        receiver.respondWith((r) => (r.path === path ? plugin.handleWebhook(r) : { status: 200 }));
        await plugin.connect(`${receiver.origin}${path}`);
        assert.equal(typeof plugin.signingKey, 'string');
        assert.equal(receiver.requests.filter((r) => r.path === path).length, 1, 'the TestMessage reached the URL with its query string');

        const created = await call(merchant, 'POST', '/organizations/self/products', productBody('Te'));
        assert.equal(created.status, 201, created.text);
        const product = JSON.parse(created.text) as { uuid: string; etag: string; variants: { uuid: string }[] };
        await h.settle();
        assert.equal(plugin.products.get(product.uuid)?.name, 'Te', 'ProductCreated: re-fetched by payload.uuid');

        const updated = await call(merchant, 'PUT', `/organizations/self/products/${product.uuid}`, productBody('Grönt te'), { 'If-Match': `"${product.etag}"` });
        assert.equal(updated.status, 200, updated.text);
        const variantUuid = (JSON.parse(updated.text) as { variants: { uuid: string }[] }).variants[0]!.uuid;
        await h.settle();
        assert.equal(plugin.products.get(product.uuid)?.name, 'Grönt te', 'ProductUpdated: the top-level uuid (waiting on (b))');

        assert.equal((await call(merchant, 'POST', '/organizations/self/inventory/tracking', { productUuid: product.uuid })).status, 201);
        const bal = await call(merchant, 'PUT', '/organizations/self/inventory/balances', {
          changes: [{ productUuid: product.uuid, variantUuid, balance: '12' }],
        });
        assert.equal(bal.status, 200, bal.text);
        await h.settle();
        assert.deepEqual(plugin.stock, [{ productUuid: product.uuid, variantUuid, stock: 12 }]);

        assert.equal((await call(merchant, 'DELETE', `/organizations/self/products/${product.uuid}`)).status, 204);
        await h.settle();
        assert.deepEqual(plugin.deleted, [product.uuid]);
        assert.deepEqual(plugin.errors, [], 'no PHP errors');
        const answered = receiver.requests.filter((r) => r.path === path).map(eventNameOf);
        assert.deepEqual(answered, ['TestMessage', 'ProductCreated', 'ProductUpdated', 'InventoryBalanceChanged', 'ProductDeleted']);

        plugin.calls.length = 0;
        await plugin.disconnect();
        assert.ok(plugin.calls.length >= 2);
        assert.ok(plugin.calls.every((c) => c.status >= 200 && c.status < 300), JSON.stringify(plugin.calls));
        assert.deepEqual((await plugin.jsonRequest('GET', '/organizations/self/subscriptions')).json, []);
      });
    });

    describe('syntax-society/izettle-webhook', () => {
      it('finds X-iZettle-Signature case-sensitively, verifies over stripslashes(timestamp.payload), reads PurchaseCreated lines and ProductUpdated entities', async () => {
        const configured: { hook?: SyntaxSocietyReceiver } = {};
        receiver.respondWith((r) => (configured.hook && r.path === '/izettle-webhook.php' ? configured.hook.handle(r) : { status: 200 }));
        const sub = await call(merchant, 'POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['PurchaseCreated', 'ProductUpdated'],
          destination: `${receiver.origin}/izettle-webhook.php`,
          contactEmail: 'hooks@example.com',
        });
        assert.equal(sub.status, 200, sub.text);
        // The key goes into .config.json; until then the receiver answered 200 without a key.
        const hook = new SyntaxSocietyReceiver((JSON.parse(sub.text) as { signingKey: string }).signingKey);
        configured.hook = hook;

        const created = await call(merchant, 'POST', '/organizations/self/products', productBody('Kaffe', [{ name: 'Stor/Large', amount: 4500 }]));
        assert.equal(created.status, 201, created.text);
        const product = JSON.parse(created.text) as { uuid: string; etag: string; variants: { uuid: string }[] };
        const unchanged = { ...productBody('Kaffe – mörkrost'), variants: [{ uuid: product.variants[0]!.uuid, name: 'Stor/Large', price: { amount: 4500, currencyId: 'SEK' } }] };
        const renamed = await call(merchant, 'PUT', `/organizations/self/products/${product.uuid}`, unchanged, {
          'If-Match': `"${product.etag}"`,
        });
        assert.equal(renamed.status, 200, renamed.text);
        const sale = await call(merchant, 'POST', '/organizations/self/purchases', {
          currency: 'SEK',
          country: 'SE',
          amount: 9000,
          vatAmount: 1800,
          gpsCoordinates: { longitude: 18.07, latitude: 59.33, accuracyMeters: 10 },
          products: [{ productUuid: product.uuid, variantUuid: product.variants[0]!.uuid, unitPrice: 4500, quantity: '2', vatPercentage: 0.25 }],
          cashPayments: [{ amount: 9000, handedAmount: 10000 }],
        });
        assert.equal(sale.status, 201, sale.text);
        await h.settle();

        const delivered = receiver.requests.filter((r) => r.path === '/izettle-webhook.php' && eventNameOf(r) !== 'TestMessage');
        assert.deepEqual(delivered.map(eventNameOf), ['ProductUpdated', 'PurchaseCreated']);
        for (const r of delivered) {
          assert.ok(r.rawHeaders.includes('X-iZettle-Signature'), `sent as X-iZettle-Signature: ${r.rawHeaders.filter((_, i) => i % 2 === 0).join(', ')}`);
          const payload = (r.json as { payload: string }).payload;
          assert.ok(!payload.includes('\\'), `no backslash in the payload (stripslashes would change it): ${payload}`);
        }
        assert.deepEqual(hook.outcomes, ['ProductUpdated: handled', 'PurchaseCreated: handled']);
        assert.deepEqual(hook.renamed, [{ from: 'Kaffe', to: 'Kaffe – mörkrost' }]);
        assert.equal(hook.sales.length, 1);
        assert.ok(!Number.isNaN(hook.sales[0]!.created.getTime()));
        assert.deepEqual(hook.sales[0]!.lines, [{ name: 'Kaffe – mörkrost', variantName: 'Stor/Large', quantity: 2, unitPrice: 45 }]);
      });

      it('the request head, as bytes, spells X-iZettle-Signature, Content-Type: application/json and User-Agent: PusherApplication (WebHookPushClient)', async () => {
        const raw = await startRawReceiver();
        try {
          const sub = await call(merchant, 'POST', '/organizations/self/subscriptions', {
            uuid: uuidv1(),
            transportName: 'WEBHOOK',
            eventNames: ['ProductCreated'],
            destination: raw.url,
            contactEmail: 'hooks@example.com',
          });
          assert.equal(sub.status, 200, sub.text);
          assert.equal((await call(merchant, 'POST', '/organizations/self/products', productBody('Choklad'))).status, 201);
          await h.settle();
          assert.equal(raw.requests.length, 2, 'the TestMessage and ProductCreated');
          for (const { head, body } of raw.requests) {
            assert.match(head, /^POST \/raw HTTP\/1\.1\r\n/);
            assert.ok(head.includes('\r\nX-iZettle-Signature: '), head);
            assert.ok(head.includes('\r\nContent-Type: application/json'), head);
            assert.ok(head.includes('\r\nUser-Agent: PusherApplication (WebHookPushClient)\r\n'), head);
            const env = JSON.parse(body) as { timestamp: string; payload: string };
            const signature = /\r\nX-iZettle-Signature: ([0-9a-f]{64})\r\n/.exec(head)?.[1];
            assert.equal(signature, hmacHex((JSON.parse(sub.text) as { signingKey: string }).signingKey, `${env.timestamp}.${env.payload}`));
          }
        } finally {
          await raw.close();
        }
      });
    });
  });
}
