// Purchases: the amounts rule, purchaseNumber, and the sale's effect on inventory, all
// in one transaction with PurchaseCreated and InventoryBalanceChanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { HeraldError } from '../../src/errors.js';
import { changeBalances, startTracking } from '../../src/sources/inventory.js';
import { createProduct, type Product } from '../../src/sources/products.js';
import { lineTotal, purchaseViolations, recordPurchase, type Purchase, type PurchaseInput } from '../../src/sources/purchases.js';
import { testDatabases } from '../helpers/db.js';
import { eventsOf, openDomain, productBody, purchaseBody, snapshot, startBusinessHerald, type BusinessHerald } from './setup.js';

const sale = (lines: Parameters<typeof purchaseBody>[0], overrides: Record<string, unknown> = {}) =>
  purchaseBody(lines, overrides) as unknown as PurchaseInput;

describe('the amounts rule', () => {
  it('lineTotal is unitPrice x quantity, exact, rounded half up', () => {
    assert.equal(lineTotal(8300, '1'), 8300);
    assert.equal(lineTotal(8300, '0.5'), 4150);
    assert.equal(lineTotal(333, '0.5'), 167);
    assert.equal(lineTotal(100, '0.333'), 33);
    assert.equal(lineTotal(3, '1.5'), 5);
    assert.equal(lineTotal(1999, '3.000'), 5997);
  });

  it('the spec example adds up except its vatAmount (21 where 25 % of 8300 gross is 1660)', () => {
    const example = {
      currency: 'SEK',
      country: 'SE',
      amount: 8300,
      vatAmount: 21,
      products: [{ productUuid: 'p', variantUuid: 'v', unitPrice: 8300, quantity: '1', vatPercentage: 0.25 }],
      cashPayments: [{ amount: 8300, handedAmount: 8300 }],
    } as unknown as PurchaseInput;
    assert.deepEqual(purchaseViolations(example).map((v) => v.propertyName), ['vatAmount']);
    assert.deepEqual(purchaseViolations({ ...example, vatAmount: 1660 }), []);
  });

  it('property: a purchase built by the rules passes, and moving amount or vatAmount by more than the tolerance fails', () => {
    const line = fc.record({
      unitPrice: fc.integer({ min: 0, max: 1_000_000 }),
      quantity: fc.oneof(fc.integer({ min: 1, max: 50 }).map(String), fc.integer({ min: 1, max: 9999 }).map((n) => (n / 1000).toFixed(3))),
      vatPercentage: fc.constantFrom(0, 0.06, 0.12, 0.25),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 100 }), (lines, discountShare, cardShare) => {
        const totals = lines.map((l) => lineTotal(l.unitPrice, l.quantity));
        const gross = totals.reduce((a, b) => a + b, 0);
        const discount = Math.floor(gross * discountShare);
        const amount = gross - discount;
        const share = gross === 0 ? 0 : amount / gross;
        const vat = Math.round(lines.reduce((a, l, i) => a + (totals[i]! * share * l.vatPercentage) / (1 + l.vatPercentage), 0));
        const card = Math.floor((amount * cardShare) / 100);
        const p = {
          currency: 'SEK',
          country: 'SE',
          amount,
          vatAmount: vat,
          products: lines.map((l) => ({ productUuid: 'p', variantUuid: 'v', ...l })),
          discounts: [{ amount: discount }],
          cashPayments: [{ amount: amount - card, handedAmount: amount - card + 50 }],
          cardPayments: [{ amount: card }],
        } as unknown as PurchaseInput;
        assert.deepEqual(purchaseViolations(p), []);
        assert.ok(purchaseViolations({ ...p, amount: amount + 1 }).some((v) => v.propertyName === 'amount'));
        assert.ok(purchaseViolations({ ...p, vatAmount: vat + lines.length + 1 }).some((v) => v.propertyName === 'vatAmount'));
      }),
      { numRuns: 300 },
    );
  });
});

for (const backend of testDatabases()) {
  describe(`purchases (domain): ${backend.name}`, () => {
    let d: Awaited<ReturnType<typeof openDomain>>;
    let tracked: Product;
    let untracked: Product;
    const org = () => d.actor.organizationUuid;
    const line = (p: Product, quantity: string, unitPrice = 8300) => ({ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, unitPrice, quantity });
    before(async () => {
      d = await openDomain(backend);
      tracked = await createProduct(d.ctx, d.actor, productBody() as never);
      untracked = await createProduct(d.ctx, d.actor, productBody({ name: 'Untracked' }) as never);
      await startTracking(d.ctx, d.actor, tracked.uuid);
      await changeBalances(d.ctx, d.actor, { changes: [{ productUuid: tracked.uuid, variantUuid: tracked.variants[0]!.uuid, balance: '10' }] });
    });
    after(() => d.testDb.dispose());

    it('a purchase of a tracked product records PurchaseCreated and InventoryBalanceChanged 10 -> 7', async () => {
      const from = (await eventsOf(d.ctx.db, org())).length;
      const p = await recordPurchase(d.ctx, d.actor, sale([line(tracked, '1'), line(untracked, '1'), line(tracked, '2')]));
      const events = (await eventsOf(d.ctx.db, org())).slice(from);
      assert.deepEqual(events.map((e) => e.event_name), ['PurchaseCreated', 'InventoryBalanceChanged']);
      assert.deepEqual(events[0]!.payload, p);
      const change = events[1]!.payload as { balanceBefore: { variantUuid: string; balance: string }[]; balanceAfter: { balance: string }[] };
      assert.deepEqual(change.balanceBefore.map((x) => [x.variantUuid, x.balance]), [[tracked.variants[0]!.uuid, '10']]);
      assert.deepEqual(change.balanceAfter.map((x) => x.balance), ['7']);
      // Names come from the library when the point of sale leaves them out.
      assert.deepEqual(p.products.map((l) => [l.name, l.variantName, l.quantity]), [
        ['GBRNOTYI', 'SXTDESFYPA', '1'],
        ['Untracked', 'SXTDESFYPA', '1'],
        ['GBRNOTYI', 'SXTDESFYPA', '2'],
      ]);
      assert.equal(p.timestamp, Date.UTC(2018, 0, 17, 9, 2, 27, 423));
      assert.equal(p.created, '2018-01-17T09:02:27.423+0000');
      assert.equal(p.userUuid, d.actor.userUuid);
      assert.equal(p.cashPayments[0]!.cashPaymentUUID, p.cashPayments[0]!.cashPaymentUUID1);
      assert.equal('cardPayments' in p, false);
    });

    it('a purchase of untracked products records only PurchaseCreated', async () => {
      const from = (await eventsOf(d.ctx.db, org())).length;
      await recordPurchase(d.ctx, d.actor, sale([line(untracked, '3')]));
      assert.deepEqual((await eventsOf(d.ctx.db, org())).slice(from).map((e) => e.event_name), ['PurchaseCreated']);
    });

    for (const [rule, change] of [
      ['amount is not the lines minus the discounts', { amount: 8299, vatAmount: 1660, cashPayments: [{ amount: 8299, handedAmount: 8299 }] }],
      ['the payments do not sum to the amount', { cashPayments: [{ amount: 8000, handedAmount: 8000 }] }],
      ['a handedAmount below its amount', { cashPayments: [{ amount: 8300, handedAmount: 8200 }] }],
      ['vatAmount is not the VAT contained in the amount', { vatAmount: 21 }],
    ] as const) {
      it(`rejected (422, nothing recorded, no number used, stock untouched): ${rule}`, async () => {
        const before = await snapshot(d.ctx.db);
        await assert.rejects(
          recordPurchase(d.ctx, d.actor, sale([line(tracked, '1')], change)),
          (err: HeraldError) => err.kind === 'unprocessable' && err.errorType === 'PURCHASE_AMOUNTS_DO_NOT_ADD_UP' && err.violations.length === 1,
        );
        assert.deepEqual(await snapshot(d.ctx.db), before);
      });
    }

    it('a tracked product sold with a variant it lacks is 422 and records neither event', async () => {
      const before = await snapshot(d.ctx.db);
      await assert.rejects(
        recordPurchase(d.ctx, d.actor, sale([{ ...line(tracked, '1'), variantUuid: untracked.variants[0]!.uuid }])),
        (err: HeraldError) => err.errorType === 'VARIANT_NOT_FOUND',
      );
      assert.deepEqual(await snapshot(d.ctx.db), before);
    });

    it('discounts and card payments: amounts after discount, VAT pro rata; cardPayments present when a card paid', async () => {
      const p = await recordPurchase(
        d.ctx,
        d.actor,
        sale([line(untracked, '2', 1000)], {
          amount: 1500,
          vatAmount: 300,
          discounts: [{ name: 'Happy hour', amount: 500 }],
          cashPayments: [{ amount: 500, handedAmount: 1000 }],
          cardPayments: [{ amount: 1000, cardType: 'VISA', maskedPan: '************1234' }],
        }),
      );
      assert.deepEqual(p.discounts, [{ name: 'Happy hour', amount: 500 }]);
      assert.deepEqual(p.cardPayments!.map((c) => [c.amount, c.cardType]), [[1000, 'VISA']]);
    });

    it('purchaseNumber increases by one per purchase, also under concurrency; a duplicate purchaseUuid is 409 and uses no number', async () => {
      const numbers = (await Promise.all(Array.from({ length: 8 }, () => recordPurchase(d.ctx, d.actor, sale([line(untracked, '1')]))))).map(
        (p: Purchase) => p.purchaseNumber,
      );
      const max = Math.max(...numbers);
      assert.deepEqual([...numbers].sort((a, b) => a - b), Array.from({ length: 8 }, (_, i) => max - 7 + i));
      const uuid = '244f60a0-fb65-11e7-ae57-406959a78d8a';
      const first = await recordPurchase(d.ctx, d.actor, sale([line(untracked, '1')], { purchaseUuid: uuid }));
      assert.equal(first.purchaseNumber, max + 1);
      const before = await snapshot(d.ctx.db);
      await assert.rejects(recordPurchase(d.ctx, d.actor, sale([line(untracked, '1')], { purchaseUuid: uuid })), (err: HeraldError) => err.kind === 'conflict');
      assert.deepEqual(await snapshot(d.ctx.db), before);
      assert.equal((await recordPurchase(d.ctx, d.actor, sale([line(untracked, '1')]))).purchaseNumber, max + 2);
    });
  });

  describe(`purchases (HTTP): ${backend.name}`, () => {
    let b: BusinessHerald;
    let p: Product;
    before(async () => {
      b = await startBusinessHerald(backend);
      p = (await b.call<Product>('POST', '/organizations/self/products', productBody())).body;
      await b.call('POST', '/organizations/self/inventory/tracking', { productUuid: p.uuid });
    });
    after(() => b.stop());

    it('POST records and answers the purchase; GET one and the list (with its cursor) return it', async () => {
      const body = purchaseBody([{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, unitPrice: 8300, quantity: '1' }]);
      const r = await b.call<Purchase>('POST', '/organizations/self/purchases', body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(typeof r.body.userDisplayName, 'string');
      const [e] = await eventsOf(b.h.db, b.org, 'PurchaseCreated');
      assert.deepEqual(e!.payload, r.body);
      const balance = await eventsOf(b.h.db, b.org, 'InventoryBalanceChanged');
      assert.deepEqual(
        balance.map((x) => (x.payload as { balanceAfter: { balance: string }[] }).balanceAfter[0]!.balance),
        ['-1'],
      );
      assert.deepEqual((await b.call('GET', `/organizations/self/purchases/${r.body.purchaseUuid}`)).body, r.body);
      const second = await b.call<Purchase>('POST', '/organizations/self/purchases', body);
      const page = await b.call<Purchase[]>('GET', `/organizations/self/purchases?afterPurchaseNumber=${r.body.purchaseNumber}&limit=10`);
      assert.deepEqual(page.body.map((x) => x.purchaseUuid), [second.body.purchaseUuid]);
    });

    it('a purchase that does not add up is 422 with the spec error body, and records nothing', async () => {
      const before = await snapshot(b.h.db);
      const r = await b.call<{ errorType: string; violations: { propertyName: string }[] }>(
        'POST',
        '/organizations/self/purchases',
        purchaseBody([{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, unitPrice: 8300, quantity: '1' }], { vatAmount: 21 }),
      );
      assert.equal(r.status, 422);
      assert.equal(r.body.errorType, 'PURCHASE_AMOUNTS_DO_NOT_ADD_UP');
      assert.deepEqual(r.body.violations.map((v) => v.propertyName), ['vatAmount']);
      assert.deepEqual(await snapshot(b.h.db), before);
      const bad = await b.call('POST', '/organizations/self/purchases', { ...purchaseBody([]), products: [] });
      assert.equal(bad.status, 400);
      assert.deepEqual(await snapshot(b.h.db), before);
    });

    it('scopes: WRITE:PURCHASE records, READ:PURCHASE reads', async () => {
      const writer = await b.credential(['WRITE:PURCHASE']);
      const reader = await b.credential(['READ:PURCHASE']);
      const req = (key: string, method: string, body?: unknown) =>
        b.h.request('/organizations/self/purchases', {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      const body = purchaseBody([{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, unitPrice: 100, quantity: '1' }]);
      assert.equal((await req(writer, 'POST', body)).status, 201);
      assert.equal((await req(writer, 'GET')).status, 403);
      assert.equal((await req(reader, 'GET')).status, 200);
      assert.equal((await req(reader, 'POST', body)).status, 403);
    });
  });
}
