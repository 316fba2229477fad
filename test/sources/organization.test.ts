// The organization's details: GET/PUT /organizations/{organizationUuid}, OrganizationUpdated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { payloadViolations } from '../../src/domain/payload-schemas.js';
import type { OrganizationDetails } from '../../src/sources/organization-details.js';
import { testDatabases } from '../helpers/db.js';
import { eventsOf, snapshot, startBusinessHerald, type BusinessHerald } from './setup.js';

for (const backend of testDatabases()) {
  describe(`organization details: ${backend.name}`, () => {
    let b: BusinessHerald;
    before(async () => {
      b = await startBusinessHerald(backend);
    });
    after(() => b.stop());

    it('GET shows every field ("" when not set); PUT replaces them and records OrganizationUpdated {organizationUuid, newEntity, oldEntity}', async () => {
      const old = await b.call<OrganizationDetails>('GET', '/organizations/self');
      assert.equal(old.status, 200);
      assert.equal(old.body.name, 'Huypacy AB');
      assert.equal(old.body.contactEmail, '');
      b.clock.advance(1000);
      const put = await b.call<OrganizationDetails>('PUT', `/organizations/${b.org}`, {
        name: 'Huypacy Huyfafa AB',
        contactEmail: 'owner@example.com',
        country: 'SE',
        currency: 'SEK',
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.updated, '2018-01-17T09:02:28.423+0000');
      assert.equal(put.body.created, old.body.created);
      const events = await eventsOf(b.h.db, b.org, 'OrganizationUpdated');
      assert.deepEqual(events.map((e) => e.payload), [{ organizationUuid: b.org, newEntity: put.body, oldEntity: old.body }]);
      assert.deepEqual(payloadViolations('OrganizationUpdated', events[0]!.payload), []);
      assert.deepEqual((await b.call('GET', '/organizations/self')).body, put.body);
    });

    it('a PUT that changes nothing records nothing', async () => {
      const current = (await b.call<OrganizationDetails>('GET', '/organizations/self')).body;
      const before = await snapshot(b.h.db);
      const r = await b.call('PUT', '/organizations/self', { name: current.name, contactEmail: current.contactEmail, country: 'SE', currency: 'SEK' });
      assert.equal(r.status, 200);
      assert.deepEqual(await snapshot(b.h.db), before);
    });

    it('invalid details are 400 and change nothing; scopes READ:USERINFO / WRITE:USERINFO; another organization 403', async () => {
      const before = await snapshot(b.h.db);
      assert.equal((await b.call('PUT', '/organizations/self', { name: 'x', country: 'Sweden' })).status, 400);
      assert.equal((await b.call('PUT', '/organizations/self', { name: '' })).status, 400);
      assert.equal((await b.call('PUT', '/organizations/self', { name: 'a\u0000b' })).status, 400);
      assert.deepEqual(await snapshot(b.h.db), before);
      const reader = await b.credential(['READ:USERINFO']);
      const h = { authorization: `Bearer ${reader}`, 'content-type': 'application/json' };
      assert.equal((await b.h.request('/organizations/self', { headers: h })).status, 200);
      assert.equal((await b.h.request('/organizations/self', { method: 'PUT', headers: h, body: JSON.stringify({ name: 'y' }) })).status, 403);
      assert.equal((await b.call('GET', '/organizations/0f60dbc0-fab5-11e7-b884-62da5a369555')).status, 403);
    });
  });
}
