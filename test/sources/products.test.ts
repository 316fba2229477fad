// The product library: each write and its event in one transaction; If-Match; the
// client's uuids; scopes and organizations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HeraldError } from '../../src/errors.js';
import { createProduct, deleteProduct, getProduct, parseIfMatch, replaceProduct, type Product } from '../../src/sources/products.js';
import { testDatabases } from '../helpers/db.js';
import { eventsOf, openDomain, productBody, snapshot, startBusinessHerald, type BusinessHerald } from './setup.js';

const input = () => productBody() as unknown as Parameters<typeof createProduct>[2];

for (const backend of testDatabases()) {
  describe(`products (domain): ${backend.name}`, () => {
    let d: Awaited<ReturnType<typeof openDomain>>;
    before(async () => {
      d = await openDomain(backend, { livemode: false });
    });
    after(() => d.testDb.dispose());

    it('create records ProductCreated with the product, in the actor\'s livemode; defaults fill every spec field', async () => {
      const p = await createProduct(d.ctx, d.actor, { name: 'Bare', variants: [{ price: { amount: 100, currencyId: 'SEK' } }] });
      assert.deepEqual(
        { description: p.description, presentation: p.presentation, categories: p.categories, ext: p.externalReference, vat: p.vatPercentage },
        { description: '', presentation: { imageUrl: '', backgroundColor: '', textColor: '' }, categories: [], ext: '', vat: 0 },
      );
      assert.deepEqual(p.variants[0]!.costPrice, { amount: 0, currencyId: 'SEK' });
      assert.match(p.etag, /^[0-9A-F]{32}$/);
      const [e] = await eventsOf(d.ctx.db, d.actor.organizationUuid, 'ProductCreated');
      assert.deepEqual(e!.payload, p);
      assert.equal(e!.livemode, false);
    });

    it('replace records ProductUpdated {organizationUuid, uuid, newEntity, oldEntity}; a new etag; created stays', async () => {
      const old = await createProduct(d.ctx, d.actor, input());
      d.clock.advance(257);
      const next = await replaceProduct(d.ctx, d.actor, old.uuid, { ...input(), name: 'newName' });
      assert.notEqual(next.etag, old.etag);
      assert.equal(next.created, old.created);
      assert.equal(next.updated, '2018-01-17T09:02:27.680+0000');
      const events = await eventsOf(d.ctx.db, d.actor.organizationUuid, 'ProductUpdated');
      assert.deepEqual(events.at(-1)!.payload, { organizationUuid: d.actor.organizationUuid, uuid: next.uuid, newEntity: next, oldEntity: old });
    });

    it('an If-Match mismatch is 412 and records nothing; a match (quoted, weak or *) applies', async () => {
      const p = await createProduct(d.ctx, d.actor, input());
      const before = await snapshot(d.ctx.db);
      await assert.rejects(
        replaceProduct(d.ctx, d.actor, p.uuid, { ...input(), name: 'lost update' }, ['0123456789ABCDEF0123456789ABCDEF']),
        (err: HeraldError) => err.kind === 'precondition_failed' && err.errorType === 'PRECONDITION_FAILED',
      );
      assert.deepEqual(await snapshot(d.ctx.db), before);
      assert.equal((await getProduct(d.ctx.db, d.actor, p.uuid)).name, p.name);
      const a = await replaceProduct(d.ctx, d.actor, p.uuid, input(), parseIfMatch(`W/"${p.etag}"`));
      await replaceProduct(d.ctx, d.actor, p.uuid, input(), parseIfMatch(`"nope", "${a.etag}"`));
      await replaceProduct(d.ctx, d.actor, p.uuid, input(), parseIfMatch('*'));
    });

    it('the client may choose product and variant uuids; a live uuid twice is 409 with nothing recorded', async () => {
      const uuid = '24134200-fb65-11e7-8b46-39368d314702';
      const variant = '24134200-fb65-11e7-8103-e11ba136a59d';
      const body = productBody({ uuid, variants: [{ uuid: variant, price: { amount: 1, currencyId: 'SEK' } }] });
      const p = await createProduct(d.ctx, d.actor, body as never);
      assert.equal(p.uuid, uuid);
      assert.equal(p.variants[0]!.uuid, variant);
      const before = await snapshot(d.ctx.db);
      await assert.rejects(createProduct(d.ctx, d.actor, body as never), (err: HeraldError) => err.errorType === 'PRODUCT_ALREADY_EXISTS');
      assert.deepEqual(await snapshot(d.ctx.db), before);
    });

    it('duplicate variant uuids and a body uuid other than the path\'s are 400', async () => {
      const v = { uuid: '24134200-fb65-11e7-8103-e11ba136a59e', price: { amount: 1, currencyId: 'SEK' } };
      await assert.rejects(createProduct(d.ctx, d.actor, { name: 'x', variants: [v, v] }), (err: HeraldError) => err.kind === 'bad_request');
      const p = await createProduct(d.ctx, d.actor, input());
      await assert.rejects(
        replaceProduct(d.ctx, d.actor, p.uuid, { ...input(), uuid: '24134200-fb65-11e7-8b46-000000000000' }),
        (err: HeraldError) => err.kind === 'bad_request',
      );
    });

    it('delete records ProductDeleted with the product as it was; then 404; its uuid may be created again', async () => {
      const p = await createProduct(d.ctx, d.actor, productBody({ uuid: '0f60dbc0-fab5-11e7-b884-62da5a369555' }) as never);
      await deleteProduct(d.ctx, d.actor, p.uuid);
      const events = await eventsOf(d.ctx.db, d.actor.organizationUuid, 'ProductDeleted');
      assert.deepEqual(events.at(-1)!.payload, p);
      await assert.rejects(getProduct(d.ctx.db, d.actor, p.uuid), (err: HeraldError) => err.errorType === 'PRODUCT_NOT_FOUND');
      await assert.rejects(deleteProduct(d.ctx, d.actor, p.uuid), (err: HeraldError) => err.kind === 'not_found');
      const again = await createProduct(d.ctx, d.actor, productBody({ uuid: p.uuid }) as never);
      assert.equal((await getProduct(d.ctx.db, d.actor, p.uuid)).etag, again.etag);
    });

    it('an event that fails to record rolls the write back (one transaction)', async () => {
      // A trigger makes the outbox insert fail after the product row was written.
      await d.ctx.db.exec(`
        create function refuse_event() returns trigger language plpgsql as $$
          begin raise exception 'outbox refuses'; end $$;
        create trigger refuse_event before insert on events for each row execute function refuse_event();`);
      try {
        const before = await snapshot(d.ctx.db);
        const existing = (await d.ctx.db.query<{ uuid: string }>('select uuid from products where deleted_at is null limit 1')).rows[0]!;
        await assert.rejects(createProduct(d.ctx, d.actor, input()), /outbox refuses/);
        await assert.rejects(replaceProduct(d.ctx, d.actor, existing.uuid, input()), /outbox refuses/);
        await assert.rejects(deleteProduct(d.ctx, d.actor, existing.uuid), /outbox refuses/);
        assert.deepEqual(await snapshot(d.ctx.db), before);
      } finally {
        await d.ctx.db.exec('drop trigger refuse_event on events; drop function refuse_event();');
      }
    });

    it('a string with U+0000 is a 400 naming the property, not a database error', async () => {
      await assert.rejects(
        createProduct(d.ctx, d.actor, { ...input(), name: 'bad \u0000 name' }),
        (err: HeraldError) => err.kind === 'bad_request' && err.violations[0]!.propertyName === 'name',
      );
    });
  });

  describe(`products (HTTP): ${backend.name}`, () => {
    let b: BusinessHerald;
    before(async () => {
      b = await startBusinessHerald(backend);
    });
    after(() => b.stop());

    it('POST, GET, list; ETag header; self and the organization\'s uuid both work', async () => {
      const created = await b.call<Product>('POST', '/organizations/self/products', productBody());
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('etag'), `"${created.body.etag}"`);
      const got = await b.call<Product>('GET', `/organizations/${b.org}/products/${created.body.uuid}`);
      assert.deepEqual(got.body, created.body);
      assert.equal(got.headers.get('etag'), `"${created.body.etag}"`);
      const list = await b.call<Product[]>('GET', '/organizations/self/products');
      assert.ok(list.body.some((p) => p.uuid === created.body.uuid));
    });

    it('PUT with a stale If-Match is 412 with the spec error body and records no event', async () => {
      const created = await b.call<Product>('POST', '/organizations/self/products', productBody());
      const first = await b.call<Product>('PUT', `/organizations/self/products/${created.body.uuid}`, productBody({ name: 'A' }), {
        'if-match': `"${created.body.etag}"`,
      });
      assert.equal(first.status, 200);
      const before = await snapshot(b.h.db);
      const stale = await b.call<{ errorType: string }>('PUT', `/organizations/self/products/${created.body.uuid}`, productBody({ name: 'B' }), {
        'if-match': `"${created.body.etag}"`,
      });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.errorType, 'PRECONDITION_FAILED');
      assert.deepEqual(await snapshot(b.h.db), before);
    });

    it('bad input is a 400 with violations, never a 500; unknown product 404', async () => {
      const r = await b.call<{ errorType: string; violations: { propertyName: string }[] }>('POST', '/organizations/self/products', {
        name: '',
        variants: [{ price: { amount: 'x', currencyId: 'sek' } }],
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.errorType, 'VALIDATION_ERROR');
      assert.ok(r.body.violations.length >= 2);
      assert.equal((await b.call('GET', '/organizations/self/products/not-a-uuid')).status, 400);
      assert.equal((await b.call('GET', '/organizations/self/products/24134200-fb65-11e7-8b46-39368d314702')).status, 404);
      assert.equal((await b.call('POST', '/organizations/self/products', 'not json')).status, 400);
    });

    it('scopes: READ:PRODUCT reads but cannot write; another organization is 403', async () => {
      const reader = await b.credential(['READ:PRODUCT']);
      const h = { authorization: `Bearer ${reader}`, 'content-type': 'application/json' };
      assert.equal((await b.h.request('/organizations/self/products', { headers: h })).status, 200);
      const w = await b.h.request('/organizations/self/products', { method: 'POST', headers: h, body: JSON.stringify(productBody()) });
      assert.equal(w.status, 403);
      const other = await b.call('GET', '/organizations/0f60dbc0-fab5-11e7-b884-62da5a369555/products');
      assert.equal(other.status, 403);
      assert.equal((await b.h.request('/organizations/self/products')).status, 401);
    });
  });
}
