// The API description tools can use (issue 10): every documented operation has an
// operationId (unique, from src/api/operation-ids.ts), shared schemas have names,
// routes without a credential say `security: []`, and there is a server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPERATION_IDS, PUBLIC_OPERATIONS } from '../../src/api/operation-ids.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

type Operation = { operationId?: string; security?: unknown[] };
type Doc = { servers?: { url: string }[]; paths: Record<string, Record<string, Operation>>; components: { schemas?: Record<string, unknown> } };

describe('OpenAPI: names tools can use', () => {
  let h: TestHerald;
  let doc: Doc;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    doc = (await (await h.request('/openapi.json')).json()) as Doc;
  });
  after(() => h?.stop());

  const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));

  it('gives every operation a unique operationId from the table, and the table names no route that is gone', () => {
    const ids = operations().map(({ key, op }) => {
      assert.ok(op.operationId, `${key} has no operationId: add it to src/api/operation-ids.ts`);
      assert.equal(op.operationId, OPERATION_IDS[key]);
      return op.operationId;
    });
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.deepEqual(Object.keys(OPERATION_IDS).sort(), operations().map((o) => o.key).sort());
  });

  it('says security: [] exactly on the routes that take no credential', () => {
    for (const { key, op } of operations()) {
      if (PUBLIC_OPERATIONS.has(op.operationId!)) assert.deepEqual(op.security, [], key);
      else assert.ok(op.security && op.security.length > 0, `${key} names its credential`);
    }
  });

  it('names its shared schemas, and has a server', () => {
    const names = Object.keys(doc.components.schemas ?? {});
    for (const n of ['ErrorBody', 'Subscription', 'Organization', 'ApiKey']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    assert.deepEqual(names.filter((n) => /^def-\d+$/.test(n)), []);
    assert.equal(doc.servers?.[0]?.url, '/');
  });
});
