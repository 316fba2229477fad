// Inventory: tracking, balances per location, the default store; each change and its
// event in one transaction, all or nothing.
import assert from 'node:assert/strict';
import { formatSpecTimestamp } from '../../src/domain/formats.js';
import { after, before, describe, it } from 'node:test';
import type { HeraldError } from '../../src/errors.js';
import {
  allLocations,
  balancesAt,
  changeBalances,
  startTracking,
  stopTracking,
  type BalanceChange,
} from '../../src/sources/inventory.js';
import { createProduct, deleteProduct, type Product } from '../../src/sources/products.js';
import { testDatabases } from '../helpers/db.js';
import { eventsOf, openDomain, productBody, snapshot, startBusinessHerald, type BusinessHerald } from './setup.js';

const twoVariants = () =>
  productBody({
    variants: [
      { name: 'S', price: { amount: 100, currencyId: 'SEK' } },
      { name: 'M', price: { amount: 100, currencyId: 'SEK' } },
    ],
  }) as never;

for (const backend of testDatabases()) {
  describe(`inventory (domain): ${backend.name}`, () => {
    let d: Awaited<ReturnType<typeof openDomain>>;
    let p: Product;
    const org = () => d.actor.organizationUuid;
    before(async () => {
      d = await openDomain(backend);
      p = await createProduct(d.ctx, d.actor, twoVariants());
    });
    after(() => d.testDb.dispose());

    it('the organization has exactly one default STORE location, even when first needed concurrently', async () => {
      const all = await Promise.all(Array.from({ length: 8 }, () => allLocations(d.ctx, d.actor)));
      for (const l of all) assert.deepEqual(l, all[0]);
      assert.equal(all[0]!.length, 1);
      assert.deepEqual({ type: all[0]![0]!.type, default: all[0]![0]!.default }, { type: 'STORE', default: true });
    });

    it('start tracking records InventoryTrackingStarted {organizationUuid, productUuid, created}; again is a no-op', async () => {
      assert.deepEqual(await startTracking(d.ctx, d.actor, p.uuid), { started: true, productUuid: p.uuid });
      assert.deepEqual(await startTracking(d.ctx, d.actor, p.uuid), { started: false, productUuid: p.uuid });
      const events = await eventsOf(d.ctx.db, org(), 'InventoryTrackingStarted');
      assert.deepEqual(
        events.map((e) => e.payload),
        [{ organizationUuid: org(), productUuid: p.uuid, created: { uuid: d.actor.userUuid, timestamp: '2018-01-17T09:02:27.423+0000', userType: 'USER' } }],
      );
      await assert.rejects(
        startTracking(d.ctx, d.actor, '24134200-fb65-11e7-8b46-39368d314702'),
        (err: HeraldError) => err.errorType === 'PRODUCT_NOT_FOUND',
      );
    });

    it('set and adjust balances: one InventoryBalanceChanged with before/after per variant, as decimal strings', async () => {
      const [s, m] = p.variants.map((v) => v.uuid) as [string, string];
      const first = await changeBalances(d.ctx, d.actor, {
        changes: [
          { productUuid: p.uuid, variantUuid: m, balance: '10' },
          { productUuid: p.uuid, variantUuid: s, balance: '3.50' },
        ],
      });
      const [location] = await allLocations(d.ctx, d.actor);
      const entry = (variantUuid: string, balance: string) => ({
        organizationUuid: org(),
        locationUuid: location!.uuid,
        productUuid: p.uuid,
        variantUuid,
        balance,
      });
      const at = (ms: number) => formatSpecTimestamp(new Date(ms));
      const t0 = d.clock.now().getTime();
      const updated = { uuid: d.actor.userUuid, timestamp: at(t0), userType: 'USER', clientUuid: d.actor.clientId };
      assert.deepEqual(first, {
        organizationUuid: org(),
        updated,
        externalUuid: null,
        balanceBefore: [{ ...entry(m, '0'), created: at(t0) }, { ...entry(s, '0'), created: at(t0) }],
        balanceAfter: [entry(m, '10'), entry(s, '3.5')],
      });
      d.clock.advance(60_000);
      const externalUuid = '0f674460-fab5-11e7-a310-0002ebd6a43c';
      const second = await changeBalances(d.ctx, d.actor, { externalUuid, changes: [{ productUuid: p.uuid, variantUuid: m, change: '-12.25' }] });
      assert.deepEqual(second.balanceAfter, [entry(m, '-2.25')]);
      // created: when the "10" was set, a minute before this change.
      assert.deepEqual(second.balanceBefore, [{ ...entry(m, '10'), created: at(t0) }]);
      assert.deepEqual(second.updated, { ...updated, timestamp: at(t0 + 60_000) });
      assert.equal(second.externalUuid, externalUuid);
      d.clock.set(t0); // later tests of this suite expect the clock where it was
      const events = await eventsOf(d.ctx.db, org(), 'InventoryBalanceChanged');
      assert.deepEqual(events.map((e) => e.payload), [first, second]);
      assert.deepEqual(
        (await balancesAt(d.ctx, d.actor)).map((b) => [b.variantUuid, b.balance]).sort(),
        [
          [m, '-2.25'],
          [s, '3.5'],
        ].sort(),
      );
      await changeBalances(d.ctx, d.actor, { changes: [{ productUuid: p.uuid, variantUuid: m, balance: '0' }] });
    });

    it('an untracked product or a variant the product lacks is 422 and nothing changes (all or nothing)', async () => {
      const untracked = await createProduct(d.ctx, d.actor, productBody() as never);
      const before = await snapshot(d.ctx.db);
      const good = { productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, change: '1' };
      await assert.rejects(
        changeBalances(d.ctx, d.actor, { changes: [good, { productUuid: untracked.uuid, variantUuid: untracked.variants[0]!.uuid, balance: '1' }] }),
        (err: HeraldError) => err.kind === 'unprocessable' && err.errorType === 'PRODUCT_NOT_TRACKED' && err.violations[0]!.propertyName === 'changes.1.productUuid',
      );
      await assert.rejects(
        changeBalances(d.ctx, d.actor, { changes: [good, { productUuid: p.uuid, variantUuid: untracked.variants[0]!.uuid, balance: '1' }] }),
        (err: HeraldError) => err.errorType === 'VARIANT_NOT_FOUND',
      );
      assert.deepEqual(await snapshot(d.ctx.db), before);
    });

    it('malformed changes are 400: both or neither of balance/change, a variant twice, not a decimal; unknown location 404', async () => {
      const k = { productUuid: p.uuid, variantUuid: p.variants[0]!.uuid };
      const before = await snapshot(d.ctx.db);
      for (const changes of [[{ ...k, balance: '1', change: '1' }], [k], [{ ...k, change: '1' }, { ...k, change: '2' }], [{ ...k, balance: '1e3' }], []]) {
        await assert.rejects(changeBalances(d.ctx, d.actor, { changes }), (err: HeraldError) => err.kind === 'bad_request', JSON.stringify(changes));
      }
      await assert.rejects(
        changeBalances(d.ctx, d.actor, { locationUuid: '24134200-fb65-11e7-8b46-39368d314702', changes: [{ ...k, change: '1' }] }),
        (err: HeraldError) => err.errorType === 'LOCATION_NOT_FOUND',
      );
      assert.deepEqual(await snapshot(d.ctx.db), before);
    });

    it('concurrent adjustments of one balance all count, and each event\'s before/after chain up', async () => {
      const k = { productUuid: p.uuid, variantUuid: p.variants[1]!.uuid };
      await changeBalances(d.ctx, d.actor, { changes: [{ ...k, balance: '0' }] });
      const results = await Promise.all(Array.from({ length: 10 }, () => changeBalances(d.ctx, d.actor, { changes: [{ ...k, change: '1' }] })));
      const pairs = results.map((r: BalanceChange) => [Number(r.balanceBefore[0]!.balance), Number(r.balanceAfter[0]!.balance)]).sort((a, b) => a[0]! - b[0]!);
      assert.deepEqual(pairs, Array.from({ length: 10 }, (_, i) => [i, i + 1]));
    });

    it('stop tracking records InventoryTrackingStopped {changeInformation} and forgets balances; stopping again is 404', async () => {
      d.clock.advance(1000);
      await stopTracking(d.ctx, d.actor, p.uuid);
      const [e] = await eventsOf(d.ctx.db, org(), 'InventoryTrackingStopped');
      assert.deepEqual(e!.payload, {
        organizationUuid: org(),
        productUuid: p.uuid,
        changeInformation: { uuid: d.actor.userUuid, timestamp: '2018-01-17T09:02:28.423+0000', userType: 'USER' },
      });
      assert.deepEqual(await balancesAt(d.ctx, d.actor), []);
      const before = await snapshot(d.ctx.db);
      await assert.rejects(stopTracking(d.ctx, d.actor, p.uuid), (err: HeraldError) => err.errorType === 'PRODUCT_NOT_TRACKED');
      assert.deepEqual(await snapshot(d.ctx.db), before);
    });

    it('deleting a tracked product records ProductDeleted and InventoryTrackingStopped together', async () => {
      const q = await createProduct(d.ctx, d.actor, productBody() as never);
      await startTracking(d.ctx, d.actor, q.uuid);
      const from = (await eventsOf(d.ctx.db, org())).length;
      await deleteProduct(d.ctx, d.actor, q.uuid);
      const events = (await eventsOf(d.ctx.db, org())).slice(from);
      assert.deepEqual(
        events.map((e) => [e.event_name, e.payload.productUuid ?? e.payload.uuid]),
        [
          ['ProductDeleted', q.uuid],
          ['InventoryTrackingStopped', q.uuid],
        ],
      );
    });
  });

  describe(`inventory (HTTP): ${backend.name}`, () => {
    let b: BusinessHerald;
    before(async () => {
      b = await startBusinessHerald(backend);
    });
    after(() => b.stop());

    it('track (201, then 200), set a balance, read balances and locations, stop (204, then 404)', async () => {
      const p = (await b.call<Product>('POST', '/organizations/self/products', productBody())).body;
      assert.equal((await b.call('POST', '/organizations/self/inventory/tracking', { productUuid: p.uuid })).status, 201);
      assert.equal((await b.call('POST', '/organizations/self/inventory/tracking', { productUuid: p.uuid })).status, 200);
      const tracked = await b.call<{ productUuid: string }[]>('GET', '/organizations/self/inventory/tracking');
      assert.deepEqual(tracked.body.map((t) => t.productUuid), [p.uuid]);
      const set = await b.call<BalanceChange>('PUT', '/organizations/self/inventory/balances', {
        changes: [{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, balance: '10' }],
      });
      assert.equal(set.status, 200);
      const locations = await b.call<{ uuid: string }[]>('GET', '/organizations/self/inventory/locations');
      assert.equal(set.body.balanceAfter[0]!.locationUuid, locations.body[0]!.uuid);
      const balances = await b.call<{ balance: string }[]>('GET', `/organizations/self/inventory/balances?locationUuid=${locations.body[0]!.uuid}`);
      assert.deepEqual(balances.body.map((x) => x.balance), ['10']);
      const untracked = (await b.call<Product>('POST', '/organizations/self/products', productBody())).body;
      const r = await b.call<{ errorType: string }>('PUT', '/organizations/self/inventory/balances', {
        changes: [{ productUuid: untracked.uuid, variantUuid: untracked.variants[0]!.uuid, change: '1' }],
      });
      assert.deepEqual([r.status, r.body.errorType], [422, 'PRODUCT_NOT_TRACKED']);
      assert.equal((await b.call('DELETE', `/organizations/self/inventory/tracking/${p.uuid}`)).status, 204);
      assert.equal((await b.call('DELETE', `/organizations/self/inventory/tracking/${p.uuid}`)).status, 404);
    });

    it('scopes: READ:PRODUCT reads inventory but cannot change it', async () => {
      const reader = await b.credential(['READ:PRODUCT']);
      const h = { authorization: `Bearer ${reader}`, 'content-type': 'application/json' };
      assert.equal((await b.h.request('/organizations/self/inventory/balances', { headers: h })).status, 200);
      const w = await b.h.request('/organizations/self/inventory/tracking', {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ productUuid: '24134200-fb65-11e7-8b46-39368d314702' }),
      });
      assert.equal(w.status, 403);
    });
  });
}
