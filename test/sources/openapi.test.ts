// The business routes appear in the generated OpenAPI, with schemas and the spec's examples.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { startBusinessHerald, type BusinessHerald } from './setup.js';

const ROUTES: [string, string[]][] = [
  ['/organizations/{organizationUuid}/products', ['get', 'post']],
  ['/organizations/{organizationUuid}/products/{productUuid}', ['get', 'put', 'delete']],
  ['/organizations/{organizationUuid}/inventory/tracking', ['get', 'post']],
  ['/organizations/{organizationUuid}/inventory/tracking/{productUuid}', ['delete']],
  ['/organizations/{organizationUuid}/inventory/balances', ['get', 'put']],
  ['/organizations/{organizationUuid}/inventory/locations', ['get']],
  ['/organizations/{organizationUuid}/purchases', ['get', 'post']],
  ['/organizations/{organizationUuid}/purchases/{purchaseUuid}', ['get']],
  ['/organizations/{organizationUuid}', ['get', 'put']],
  ['/payment-terminals', ['get', 'post']],
  ['/payment-terminals/{paymentTerminalId}', ['get', 'put', 'delete']],
];

const backend = testDatabases()[0]!;
describe('OpenAPI of the business routes', () => {
  let b: BusinessHerald;
  before(async () => {
    b = await startBusinessHerald(backend);
  });
  after(() => b.stop());

  it('every route is documented with its responses; bodies and answers carry the spec\'s examples', async () => {
    const doc = (await (await b.h.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
    };
    for (const [path, methods] of ROUTES) {
      for (const m of methods) {
        const op = doc.paths[path]?.[m];
        assert.ok(op, `${m.toUpperCase()} ${path} is documented`);
        assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${m} ${path} has a 2xx response`);
        assert.ok(op.responses['401'], `${m} ${path} documents 401`);
        // The Inventory API routes also take Betterez's x-api-key header.
        assert.deepEqual(op.security, path.startsWith('/payment-terminals') ? [{ bearer: [] }, { apiKey: [] }] : [{ bearer: [] }]);
      }
    }
    const text = JSON.stringify(doc);
    for (const example of ['TRD30110877A', '2FB3091638C71D1D2A39C86936675F96', 'G_CV8PtlEeeM-myT50Z8dg', '1bfc07a0-fb65-11e7-8d72-68a12b957f8b']) {
      assert.ok(text.includes(example), `an example with ${example}`);
    }
  });
});
