// The business APIs end to end, as a subscriber sees them: every event of the spec
// that has an example payload is triggered through Herald's own HTTP API, delivered by
// the real worker to a real receiver, and compared with the spec's example (envelope
// keys, payload shape: same keys at every level, same JSON types, same formats), with
// both signatures recomputed here. Writes that are rejected deliver nothing.
import { v1 as uuidv1 } from 'uuid';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { formatSpecTimestamp } from '../../src/domain/formats.js';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EVENTS_WITH_EXAMPLES, INVENTORY_EXAMPLES, originalPayloadExample } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { asCredential, createCredential } from '../helpers/identity.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { shapeDifferences } from '../helpers/shape.js';
import {
  FIRST_RETRY_SECONDS,
  checkInventoryRequest,
  checkPusherRequest,
  eventNameOf,
  startWebhookEnv,
  type InventoryBody,
  type WebhookEnv,
} from '../helpers/webhooks.js';
import { productBody, purchaseBody } from './setup.js';

interface Product {
  uuid: string;
  etag: string;
  name: string;
  variants: { uuid: string }[];
}
interface Balance {
  organizationUuid: string;
  locationUuid: string;
  productUuid: string;
  variantUuid: string;
  balance: string;
}
interface BalanceChanged {
  organizationUuid: string;
  updated: { uuid: string; timestamp: string; userType: string; clientUuid: string | null };
  externalUuid: string | null;
  balanceBefore: (Balance & { created: string })[];
  balanceAfter: Balance[];
}
interface Terminal {
  _id: string;
  name: string;
  [k: string]: unknown;
}

const terminalBody = (name: string) => ({
  name,
  protocol: 'ws',
  ip: '192.168.10.10',
  locationId: '5f243d100617680712e78dd7',
  partNumber: 'TRD30110877A',
  serialNumber: 'SN12345',
});

const names = (reqs: ReceivedRequest[]) => reqs.map((r) => eventNameOf(r) ?? '?').sort();

for (const backend of testDatabases()) {
  describe(`business events delivered as webhooks: ${backend.name}`, () => {
    let w: WebhookEnv;
    /** The events whose delivered payload was compared with the spec's example. */
    const compared = new Set<string>();

    before(async () => {
      w = await startWebhookEnv(backend);
    });
    after(() => w?.stop());
    beforeEach(() => w.receiver.reset());

    async function json<T>(r: Response, status: number): Promise<T> {
      const text = await r.text();
      assert.equal(r.status, status, text);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }

    /**
     * Checks a Pusher delivery of `eventName`: the envelope (signatures included), this
     * organization, the event's time, and the decoded payload's shape against the spec's
     * example. Returns the payload.
     */
    /** webhook-timestamp is the send time: Herald's clock, which only tests move. */
    const sentNow = (r: ReceivedRequest) => assert.equal(r.headers['webhook-timestamp'], String(Math.floor(w.clock.now().getTime() / 1000)));

    function pusher<T>(r: ReceivedRequest, eventName: string, at: Date): T {
      const { body, payload } = checkPusherRequest(r, w.signingKey);
      sentNow(r);
      assert.equal(body.eventName, eventName);
      assert.equal(body.organizationUuid, w.org);
      assert.equal(body.timestamp, at.toISOString(), 'timestamp: when the event was accepted');
      assert.deepEqual(shapeDifferences(payload, originalPayloadExample(eventName)), [], JSON.stringify(payload, null, 2));
      compared.add(eventName);
      return payload as T;
    }

    /** The same for an Inventory delivery: envelope, signatures, and data's shape against the spec's. */
    function inventory(r: ReceivedRequest, event: string, opts: { at: Date; livemode: boolean; signingKey?: string }): InventoryBody {
      const body = checkInventoryRequest(r, opts.signingKey ?? w.signingKey);
      sentNow(r);
      assert.equal(body.event, event);
      assert.equal(body.livemode, opts.livemode);
      assert.equal(body.created, Math.floor(opts.at.getTime() / 1000), 'created: the emit time in Unix seconds');
      assert.deepEqual(shapeDifferences(body.data, INVENTORY_EXAMPLES[event]!.data), [], JSON.stringify(body.data, null, 2));
      compared.add(event);
      return body;
    }

    const one = (reqs: ReceivedRequest[], eventName: string) => {
      const found = reqs.filter((r) => eventNameOf(r) === eventName);
      assert.equal(found.length, 1, `one ${eventName}, got ${JSON.stringify(names(reqs))}`);
      return found[0]!;
    };

    const createProduct = async (overrides: Record<string, unknown> = {}) =>
      json<Product>(await w.call('POST', '/organizations/self/products', productBody(overrides)), 201);
    const track = async (productUuid: string) => {
      await json(await w.call('POST', '/organizations/self/inventory/tracking', { productUuid }), 201);
    };
    const setBalance = async (p: Product, balance: string) =>
      json<BalanceChanged>(
        await w.call('PUT', '/organizations/self/inventory/balances', {
          changes: [{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, balance }],
        }),
        200,
      );
    const selfUuid = async () => (await json<{ uuid: string }>(await w.call('GET', '/users/self'), 200)).uuid;
    const storeUuid = async () => (await json<{ uuid: string }[]>(await w.call('GET', '/organizations/self/inventory/locations'), 200))[0]!.uuid;

    describe('product library', () => {
      it('POST a product delivers ProductCreated: the product, in the spec\'s shape', async () => {
        const at = w.clock.now();
        let created!: Product;
        const got = await w.deliveredBy(async () => {
          created = await createProduct();
        });
        assert.deepEqual(names(got), ['ProductCreated']);
        const payload = pusher<Record<string, unknown>>(got[0]!, 'ProductCreated', at);
        assert.deepEqual(payload, created, 'the payload is the product the API answered');
        assert.equal(payload.organizationUuid, w.org);
      });

      it('PUT with a matching If-Match delivers ProductUpdated {organizationUuid, newEntity, oldEntity}', async () => {
        const created = await createProduct();
        w.clock.advance(1000);
        const at = w.clock.now();
        let updated!: Product;
        const got = await w.deliveredBy(async () => {
          const r = await w.call('PUT', `/organizations/self/products/${created.uuid}`, { ...created, name: 'newName' }, { 'if-match': `"${created.etag}"` });
          updated = await json<Product>(r, 200);
        });
        assert.deepEqual(names(got), ['ProductUpdated']);
        const payload = pusher<{ organizationUuid: string; newEntity: Product; oldEntity: Product }>(got[0]!, 'ProductUpdated', at);
        assert.equal(payload.organizationUuid, w.org);
        assert.deepEqual(payload.oldEntity, created);
        assert.deepEqual(payload.newEntity, updated);
        assert.equal(payload.newEntity.name, 'newName');
        assert.notEqual(payload.newEntity.etag, payload.oldEntity.etag);
      });

      it('a rejected PUT (If-Match mismatch, 412) delivers nothing', async () => {
        const created = await createProduct();
        await w.settle();
        w.receiver.reset();
        const got = await w.deliveredBy(async () => {
          const r = await w.call('PUT', `/organizations/self/products/${created.uuid}`, productBody({ name: 'B' }), {
            'if-match': '"0533193EB4130DFAF0819A7CA37AC426"',
          });
          assert.equal(((await json<{ errorType: string }>(r, 412)).errorType), 'PRECONDITION_FAILED');
        });
        assert.deepEqual(names(got), []);
        // The product is unchanged.
        assert.deepEqual(await json<Product>(await w.call('GET', `/organizations/self/products/${created.uuid}`), 200), created);
      });

      it('a rejected POST (400) delivers nothing', async () => {
        const got = await w.deliveredBy(async () => {
          await json(await w.call('POST', '/organizations/self/products', { name: '', variants: [{ price: { amount: 'x', currencyId: 'sek' } }] }), 400);
        });
        assert.deepEqual(names(got), []);
      });

      it('DELETE delivers ProductDeleted: the product as it was', async () => {
        const created = await createProduct();
        await w.settle();
        const at = w.clock.now();
        const got = await w.deliveredBy(async () => {
          await json(await w.call('DELETE', `/organizations/self/products/${created.uuid}`), 204);
        });
        assert.deepEqual(names(got), ['ProductDeleted']);
        assert.deepEqual(pusher(got[0]!, 'ProductDeleted', at), created);
      });

      it('DELETE of a tracked product delivers ProductDeleted and InventoryTrackingStopped', async () => {
        const created = await createProduct();
        await track(created.uuid);
        await w.settle();
        const at = w.clock.now();
        const got = await w.deliveredBy(async () => {
          await json(await w.call('DELETE', `/organizations/self/products/${created.uuid}`), 204);
        });
        assert.deepEqual(names(got), ['InventoryTrackingStopped', 'ProductDeleted']);
        assert.deepEqual(pusher(one(got, 'ProductDeleted'), 'ProductDeleted', at), created);
        const stopped = pusher<{ productUuid: string }>(one(got, 'InventoryTrackingStopped'), 'InventoryTrackingStopped', at);
        assert.equal(stopped.productUuid, created.uuid);
      });
    });

    describe('inventory', () => {
      it('start tracking delivers InventoryTrackingStarted; starting again delivers nothing', async () => {
        const p = await createProduct();
        await w.settle();
        const at = w.clock.now();
        const got = await w.deliveredBy(() => track(p.uuid));
        assert.deepEqual(names(got), ['InventoryTrackingStarted']);
        const payload = pusher<{ organizationUuid: string; productUuid: string; created: { userType: string; timestamp: string } }>(
          got[0]!,
          'InventoryTrackingStarted',
          at,
        );
        assert.equal(payload.organizationUuid, w.org);
        assert.equal(payload.productUuid, p.uuid);
        assert.equal(payload.created.userType, 'USER');
        const again = await w.deliveredBy(async () => {
          await json(await w.call('POST', '/organizations/self/inventory/tracking', { productUuid: p.uuid }), 200);
        });
        assert.deepEqual(names(again), []);
      });

      it('setting a balance delivers InventoryBalanceChanged "0" -> "10" at the store', async () => {
        const p = await createProduct();
        await track(p.uuid);
        await w.settle();
        const at = w.clock.now();
        let answered!: BalanceChanged;
        const got = await w.deliveredBy(async () => {
          answered = await setBalance(p, '10');
        });
        assert.deepEqual(names(got), ['InventoryBalanceChanged']);
        const payload = pusher<BalanceChanged>(got[0]!, 'InventoryBalanceChanged', at);
        assert.deepEqual(payload, answered);
        const entry = { organizationUuid: w.org, locationUuid: await storeUuid(), productUuid: p.uuid, variantUuid: p.variants[0]!.uuid };
        // A variant never counted: its balance row is made by this change, so `created` is now.
        assert.deepEqual(payload.balanceBefore, [{ ...entry, balance: '0', created: formatSpecTimestamp(at) }]);
        assert.deepEqual(payload.balanceAfter, [{ ...entry, balance: '10' }]);
        assert.deepEqual(payload.updated, {
          uuid: await selfUuid(),
          timestamp: formatSpecTimestamp(at),
          userType: 'USER',
          clientUuid: decodeJwt(w.cred.apiKey).client_id,
        });
        assert.equal(payload.externalUuid, null);
      });

      it('a balance change of an untracked product (422) delivers nothing', async () => {
        const p = await createProduct();
        await w.settle();
        w.receiver.reset();
        const got = await w.deliveredBy(async () => {
          const r = await w.call('PUT', '/organizations/self/inventory/balances', {
            changes: [{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, balance: '3' }],
          });
          assert.equal((await json<{ errorType: string }>(r, 422)).errorType, 'PRODUCT_NOT_TRACKED');
        });
        assert.deepEqual(names(got), []);
      });

      it('stop tracking delivers InventoryTrackingStopped {changeInformation}', async () => {
        const p = await createProduct();
        await track(p.uuid);
        await w.settle();
        const at = w.clock.now();
        const got = await w.deliveredBy(async () => {
          await json(await w.call('DELETE', `/organizations/self/inventory/tracking/${p.uuid}`), 204);
        });
        assert.deepEqual(names(got), ['InventoryTrackingStopped']);
        const payload = pusher<{ productUuid: string; changeInformation: { userType: string } }>(got[0]!, 'InventoryTrackingStopped', at);
        assert.equal(payload.productUuid, p.uuid);
        assert.equal(payload.changeInformation.userType, 'USER');
      });
    });

    describe('purchases', () => {
      it('a purchase of a tracked product delivers PurchaseCreated and InventoryBalanceChanged "10" -> "8"', async () => {
        const p = await createProduct();
        await track(p.uuid);
        await setBalance(p, '10');
        await w.settle();
        w.clock.advance(1000);
        const at = w.clock.now();
        const variantUuid = p.variants[0]!.uuid;
        let sale!: { purchaseUuid: string; purchaseNumber: number };
        const got = await w.deliveredBy(async () => {
          const r = await w.call('POST', '/organizations/self/purchases', purchaseBody([{ productUuid: p.uuid, variantUuid, unitPrice: 8300, quantity: '2' }]));
          sale = await json(r, 201);
        });
        assert.deepEqual(names(got), ['InventoryBalanceChanged', 'PurchaseCreated']);

        const purchase = pusher<Record<string, unknown> & { products: { productUuid: string; quantity: string }[] }>(
          one(got, 'PurchaseCreated'),
          'PurchaseCreated',
          at,
        );
        assert.deepEqual(purchase, sale, 'the payload is the purchase the API answered');
        assert.equal(purchase.organizationUuid, w.org);
        assert.equal(purchase.amount, 16600);
        assert.deepEqual(
          purchase.products.map((l) => [l.productUuid, l.quantity]),
          [[p.uuid, '2']],
        );
        assert.equal(purchase.timestamp, at.getTime());

        const balance = pusher<BalanceChanged>(one(got, 'InventoryBalanceChanged'), 'InventoryBalanceChanged', at);
        const entry = { organizationUuid: w.org, locationUuid: await storeUuid(), productUuid: p.uuid, variantUuid };
        assert.equal(balance.organizationUuid, w.org);
        const [before] = balance.balanceBefore;
        assert.deepEqual({ ...before, created: undefined }, { ...entry, balance: '10', created: undefined });
        assert.ok(before!.created <= formatSpecTimestamp(at), 'the "10" was set before the sale');
        assert.deepEqual(balance.balanceAfter, [{ ...entry, balance: '8' }]);
        assert.equal(balance.updated.clientUuid, decodeJwt(w.cred.apiKey).client_id, 'the sale was recorded with the key');
      });

      it('a purchase that fails validation delivers neither event, and the stock is untouched', async () => {
        const p = await createProduct();
        await track(p.uuid);
        await setBalance(p, '10');
        await w.settle();
        w.receiver.reset();
        const variantUuid = p.variants[0]!.uuid;
        const got = await w.deliveredBy(async () => {
          // vatAmount 21 for 8300 at 25 % (the spec example's numbers) does not add up.
          const bad = purchaseBody([{ productUuid: p.uuid, variantUuid, unitPrice: 8300, quantity: '1' }], { vatAmount: 21 });
          const r = await w.call('POST', '/organizations/self/purchases', bad);
          assert.equal((await json<{ errorType: string }>(r, 422)).errorType, 'PURCHASE_AMOUNTS_DO_NOT_ADD_UP');
          // Payments that do not cover the amount.
          const short = purchaseBody([{ productUuid: p.uuid, variantUuid, unitPrice: 8300, quantity: '1' }], {
            cashPayments: [{ amount: 8000, handedAmount: 8000 }],
          });
          await json(await w.call('POST', '/organizations/self/purchases', short), 422);
        });
        assert.deepEqual(names(got), []);
        assert.equal(w.receiver.requests.length, 0, 'the receiver got nothing at all');
        const balances = await json<Balance[]>(await w.call('GET', '/organizations/self/inventory/balances'), 200);
        assert.deepEqual(
          balances.filter((b) => b.productUuid === p.uuid).map((b) => b.balance),
          ['10'],
        );
      });
    });

    describe('payment terminals', () => {
      it('create delivers paymentTerminals.created; a retry keeps id and created, with a new attemptId', async () => {
        let failed = false;
        w.receiver.respondWith(() => {
          if (failed) return { status: 200 };
          failed = true;
          return { status: 503 };
        });
        const at = w.clock.now();
        let terminal!: Terminal;
        const first = await w.deliveredBy(async () => {
          terminal = (await json<{ paymentTerminal: Terminal }>(await w.call('POST', '/payment-terminals', { paymentTerminal: terminalBody('Terminal created') }), 200)).paymentTerminal;
        });
        assert.deepEqual(names(first), ['paymentTerminals.created']);
        const a = inventory(first[0]!, 'paymentTerminals.created', { at, livemode: true });
        assert.deepEqual(a.data, terminal, 'data is the terminal the API answered');

        // Not yet due: nothing more.
        await w.advance(FIRST_RETRY_SECONDS - 1);
        assert.equal(w.receiver.requests.length, 1);
        await w.advance(2);
        assert.equal(w.receiver.requests.length, 2, 'retried once the first retry delay passed');
        const b = inventory(w.receiver.requests[1]!, 'paymentTerminals.created', { at, livemode: true });
        assert.equal(b.id, a.id, 'id is stable across a retry');
        assert.notEqual(b.attemptId, a.attemptId, 'attemptId is new per attempt');
        assert.deepEqual(b.data, a.data);
        assert.notEqual(w.receiver.requests[1]!.headers['webhook-timestamp'], w.receiver.requests[0]!.headers['webhook-timestamp']);

        // Delivered: nothing more later. (The clock stays within Standard Webhooks' 5
        // minutes of real time, so the official verifier accepts every request.)
        await w.advance(FIRST_RETRY_SECONDS + 1);
        assert.equal(w.receiver.requests.length, 2);
      });

      it('update delivers paymentTerminals.updated (the full terminal); delete delivers paymentTerminals.deleted {paymentTerminalId}', async () => {
        const terminal = (await json<{ paymentTerminal: Terminal }>(await w.call('POST', '/payment-terminals', { paymentTerminal: terminalBody('Terminal updated') }), 200)).paymentTerminal;
        await w.settle();
        w.clock.advance(5000);
        const updatedAt = w.clock.now();
        let updated!: Terminal;
        const got = await w.deliveredBy(async () => {
          updated = (await json<{ paymentTerminal: Terminal }>(await w.call('PUT', `/payment-terminals/${terminal._id}`, { paymentTerminal: { ...terminal, name: 'Terminal renamed' } }), 200)).paymentTerminal;
        });
        assert.deepEqual(names(got), ['paymentTerminals.updated']);
        const u = inventory(got[0]!, 'paymentTerminals.updated', { at: updatedAt, livemode: true });
        assert.deepEqual(u.data, updated);
        assert.equal(u.data.name, 'Terminal renamed');
        assert.equal(u.data._id, terminal._id);

        w.clock.advance(5000);
        const deletedAt = w.clock.now();
        const gone = await w.deliveredBy(async () => {
          await json(await w.call('DELETE', `/payment-terminals/${terminal._id}`), 200);
        });
        assert.deepEqual(names(gone), ['paymentTerminals.deleted']);
        const d = inventory(gone[0]!, 'paymentTerminals.deleted', { at: deletedAt, livemode: true });
        assert.deepEqual(d.data, { paymentTerminalId: terminal._id });
        assert.notEqual(d.id, u.id, 'each event has its own id');
      });

      it('with a test-mode key, created/updated/deleted go to test-mode subscriptions only, with livemode false', async () => {
        const testKey = await createCredential(w.h, ['WRITE:PAYMENT_TERMINAL', 'READ:PAYMENT_TERMINAL'], { organizationUuid: w.org, livemode: false });
        const call = asCredential(w.h, testKey);
        // A subscription made with the test-mode key is a test-mode subscription.
        const sub = await call('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['paymentTerminals.created', 'paymentTerminals.updated', 'paymentTerminals.deleted'],
          destination: `${w.receiver.url}?mode=test`,
          contactEmail: 'test-mode@example.com',
        });
        assert.equal(sub.status, 200);
        const { signingKey } = (await sub.json()) as { signingKey: string };
        await w.settle();
        const at = w.clock.now();
        const got = await w.deliveredBy(async () => {
          const t = (await json<{ paymentTerminal: Terminal }>(await call('POST', '/payment-terminals', { paymentTerminal: terminalBody('Terminal test mode') }), 200)).paymentTerminal;
          await json(await call('PUT', `/payment-terminals/${t._id}`, { paymentTerminal: { ...t, name: 'Terminal test mode 2' } }), 200);
          await json(await call('DELETE', `/payment-terminals/${t._id}`), 200);
        });
        assert.deepEqual(names(got), ['paymentTerminals.created', 'paymentTerminals.deleted', 'paymentTerminals.updated']);
        // The live subscriptions received none of them.
        assert.ok(got.every((r) => r.path.endsWith('?mode=test')), got.map((r) => r.path).join(', '));
        for (const r of got) inventory(r, eventNameOf(r)!, { at, livemode: false, signingKey });
      });

      it('a rejected write (duplicate name, bad protocol) delivers nothing', async () => {
        await json(await w.call('POST', '/payment-terminals', { paymentTerminal: terminalBody('Terminal unique') }), 200);
        await w.settle();
        w.receiver.reset();
        const got = await w.deliveredBy(async () => {
          const dup = await w.call('POST', '/payment-terminals', { paymentTerminal: terminalBody('Terminal unique') });
          assert.ok(dup.status >= 400 && dup.status < 500, `duplicate name: ${dup.status}`);
          const bad = await w.call('POST', '/payment-terminals', { paymentTerminal: { ...terminalBody('Terminal bad'), protocol: 'http' } });
          assert.ok(bad.status >= 400 && bad.status < 500, `bad protocol: ${bad.status}`);
        });
        assert.deepEqual(names(got), []);
      });
    });

    it('every event of the spec with an example payload was delivered and compared', () => {
      assert.deepEqual([...compared].sort(), [...EVENTS_WITH_EXAMPLES].sort());
    });
  });
}
