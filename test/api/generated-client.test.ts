// The typed client generated from Herald's OpenAPI document (scripts/generate-api-client.ts,
// used by the CLI): the checked-in types match the routes, and a round trip through it
// against a running Herald gets what the types say.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateApiSchema, SCHEMA_FILE } from '../../scripts/generate-api-client.js';
import { readFileSync } from 'node:fs';
import { ApiError, heraldApi, unwrap } from '../../src/cli/api-client.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';

describe('generated API client', () => {
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
  });
  after(() => h?.stop());

  it('is generated from the routes as they are (regenerate with npx tsx scripts/generate-api-client.ts)', async () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), await generateApiSchema());
  });

  it('round-trips: admin creates an organization and a key; the key lists subscriptions, starts and ends a listener', async () => {
    const admin = heraldApi(h.url, TEST_ADMIN_TOKEN);
    const org = unwrap(await admin.POST('/admin/organizations', { body: { name: 'Typed' } }));
    assert.equal(org.name, 'Typed');
    const key = unwrap(
      await admin.POST('/admin/organizations/{organizationUuid}/api-keys', {
        params: { path: { organizationUuid: org.organizationUuid } },
        body: { name: 'k', scopes: ['READ:PRODUCT'] },
      }),
    );
    const api = heraldApi(h.url, key.apiKey);
    const self = unwrap(await api.GET('/users/self'));
    assert.equal(self.organizationUuid, org.organizationUuid);
    assert.deepEqual(unwrap(await api.GET('/organizations/{organizationUuid}/subscriptions', { params: { path: { organizationUuid: 'self' } } })), []);
    const listener = unwrap(await api.POST('/organizations/{organizationUuid}/listeners', { params: { path: { organizationUuid: 'self' } }, body: {} }));
    assert.ok(listener.eventNames.includes('ProductCreated'));
    unwrap(await api.DELETE('/organizations/{organizationUuid}/listeners/{listenerId}', { params: { path: { organizationUuid: 'self', listenerId: listener.id } } }));
    // An error answer becomes an ApiError with the spec's errorType.
    await assert.rejects(
      async () => unwrap(await api.DELETE('/organizations/{organizationUuid}/listeners/{listenerId}', { params: { path: { organizationUuid: 'self', listenerId: listener.id } } })),
      (err: unknown) => err instanceof ApiError && err.status === 404 && err.errorType === 'LISTENER_NOT_FOUND',
    );
  });
});
