// Request-rate limits (src/api/plugins/rate-limit.ts) on a real server, on both databases:
// per credential, per client IP without one, POST /token per IP and per API key, refused
// credentials per IP (off by default), the admin API per IP; probes never. Small limits through config;
// time is Herald's clock, moved by hand, so no window runs out behind a test's back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { RATE_LIMIT_WINDOW_MS } from '../../src/api/plugins/rate-limit.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import { storeDigest } from '../helpers/store-contents.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PER_CREDENTIAL = 5;
const TOKEN = 4;
const REFUSED = 3;
const ADMIN = 10;

/** A 429 with Retry-After and the spec's error body; returns the body. */
async function assertTooMany(res: Response, retryAfter: number, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, 429, `${what}: ${res.status} ${text}`);
  assert.equal(res.headers.get('retry-after'), String(retryAfter), what);
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0', what);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.errorType, 'TOO_MANY_REQUESTS', what);
  assert.equal(typeof body.developerMessage, 'string', what);
  assert.deepEqual(body.violations, [], what);
  return body;
}

for (const backend of testDatabases()) {
  describe(`rate limits: ${backend.name}`, () => {
    const clock = new ManualClock(Date.now());
    let h: TestHerald;
    let a: TestCredential;
    let b: TestCredential;
    const as = (cred: TestCredential | string, path: string, init: RequestInit = {}) =>
      h.request(path, { ...init, headers: { authorization: typeof cred === 'string' ? cred : cred.auth, ...init.headers } });
    const token = (form: Record<string, string>, ip?: string) =>
      h.request('/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(ip ? { 'x-forwarded-for': ip } : {}) },
        body: new URLSearchParams(form).toString(),
      });

    before(async () => {
      h = await startTestHerald(backend, {
        clock,
        // trustProxy: X-Forwarded-For stands for distinct client IPs (all tests come from 127.0.0.1).
        config: {
          rateLimitCredentialPerMinute: PER_CREDENTIAL,
          rateLimitTokenPerMinute: TOKEN,
          rateLimitRefusedPerMinute: REFUSED,
          rateLimitAdminPerMinute: ADMIN,
          trustProxy: true,
        },
      });
      a = await createCredential(h, ALL_SCOPES);
      b = await createCredential(h, ALL_SCOPES);
    });
    after(() => h.stop());
    // Every test starts in fresh windows.
    beforeEach(() => clock.advance(RATE_LIMIT_WINDOW_MS));

    it('the (N+1)th request of a credential in a minute is 429 with Retry-After and the error body; others are unaffected', async () => {
      for (let i = 1; i <= PER_CREDENTIAL; i++) {
        const r = await as(a, '/users/self');
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('x-ratelimit-limit'), String(PER_CREDENTIAL));
        assert.equal(r.headers.get('x-ratelimit-remaining'), String(PER_CREDENTIAL - i));
      }
      const body = await assertTooMany(await as(a, '/users/self'), 60, 'credential a, request N+1');
      assert.match(String(body.developerMessage), /credential/);
      // The same key through its other header spelling is the same credential.
      await assertTooMany(await as(`bearer   ${a.apiKey}`, '/organizations/self/subscriptions'), 60, 'credential a, other route');
      assert.equal((await as(b, '/users/self')).status, 200, 'credential b has its own count');
      // Retry-After is honest: still refused 1 s before it, served once it has passed.
      clock.advance(30_000);
      await assertTooMany(await as(a, '/users/self'), 30, 'credential a, 30 s later');
      clock.advance(29_000);
      assert.equal((await as(a, '/users/self')).status, 429);
      clock.advance(1_000);
      assert.equal((await as(a, '/users/self')).status, 200);
    });

    it('a request over the limit changes nothing, and its body is not even parsed', async () => {
      for (let i = 0; i < PER_CREDENTIAL; i++) assert.equal((await as(a, '/users/self')).status, 200);
      const before = await storeDigest(h.db);
      const product = { name: 'Tea', variants: [{ name: 'Mug', price: { amount: 2500, currencyId: 'SEK' } }] };
      const r = await as(a, '/organizations/self/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(product) });
      await assertTooMany(r, 60, 'POST over the limit');
      // Not even parsed: a body that would be 400 is 429 too.
      await assertTooMany(await as(a, '/organizations/self/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), 60, 'bad JSON');
      assert.deepEqual(await storeDigest(h.db), before);
    });

    it('the Inventory API paths answer 429 with Betterez code and message too, counted by x-api-key', async () => {
      for (let i = 0; i < PER_CREDENTIAL; i++) assert.equal((await h.request('/payment-terminals', { headers: { 'x-api-key': a.apiKey } })).status, 200);
      const body = await assertTooMany(await h.request('/payment-terminals', { headers: { 'x-api-key': a.apiKey } }), 60, 'x-api-key');
      assert.equal(body.code, 'TOO_MANY_REQUESTS');
      assert.equal(body.message, body.developerMessage);
    });

    it('requests without a credential count per client IP', async () => {
      for (let i = 0; i < PER_CREDENTIAL; i++) assert.equal((await h.request('/events')).status, 200);
      await assertTooMany(await h.request('/events'), 60, 'anonymous N+1');
      assert.equal((await h.request('/events', { headers: { 'x-forwarded-for': '192.0.2.7' } })).status, 200, 'another address');
      assert.equal((await as(a, '/users/self')).status, 200, 'a credential from the same address');
    });

    it('probes, metrics and the API reference are never limited', async () => {
      for (let i = 0; i <= PER_CREDENTIAL; i++) await h.request('/events');
      assert.equal((await h.request('/events')).status, 429, 'this address is over its limit');
      for (let i = 0; i < 3 * PER_CREDENTIAL; i++) {
        for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs/']) {
          const r = await h.request(path);
          await r.arrayBuffer();
          assert.equal(r.status, 200, path);
          assert.equal(r.headers.get('x-ratelimit-limit'), null, path);
        }
      }
    });

    it('POST /token is limited per client IP, before its form is read', async () => {
      const ip = '198.51.100.1';
      for (let i = 0; i < TOKEN; i++) assert.equal((await token({ grant_type: 'nonsense' }, ip)).status, 400);
      const r = await token({ grant_type: JWT_BEARER, client_id: 'c', assertion: a.apiKey }, ip);
      const body = await assertTooMany(r, 60, '/token from one address');
      assert.match(String(body.developerMessage), /POST \/token/);
      assert.equal((await token({ grant_type: JWT_BEARER, client_id: 'c', assertion: a.apiKey }, '198.51.100.2')).status, 200, 'another address');
      assert.equal((await as(a, '/users/self')).status, 200, 'the APIs are not limited by it');
    });

    it('POST /token is limited per API key exchanged, from any address', async () => {
      for (let i = 0; i < TOKEN; i++) {
        assert.equal((await token({ grant_type: JWT_BEARER, client_id: 'c', assertion: a.apiKey }, `203.0.113.${i + 1}`)).status, 200);
      }
      const body = await assertTooMany(await token({ grant_type: JWT_BEARER, client_id: 'c', assertion: a.apiKey }, '203.0.113.99'), 60, 'key a');
      assert.match(String(body.developerMessage), /API key/);
      assert.equal((await token({ grant_type: JWT_BEARER, client_id: 'c', assertion: b.apiKey }, '203.0.113.99')).status, 200, 'key b');
    });

    it('refused credentials count per client IP, whatever credential is guessed next', async () => {
      const ip = { 'x-forwarded-for': '198.51.100.50' };
      for (let i = 0; i < REFUSED; i++) {
        const guess = `Bearer ${randomBytes(24).toString('base64url')}`;
        assert.equal((await as(guess, '/users/self', { headers: ip })).status, 401);
      }
      const body = await assertTooMany(await as(`Bearer ${randomBytes(24).toString('base64url')}`, '/users/self', { headers: ip }), 60, 'guess N+1');
      assert.match(String(body.developerMessage), /refused credentials/);
      // The address is refused as a whole, with a valid credential too; others are not.
      assert.equal((await as(a, '/users/self', { headers: ip })).status, 429);
      assert.equal((await as(a, '/users/self', { headers: { 'x-forwarded-for': '198.51.100.51' } })).status, 200);
    });

    it('the admin API is limited per client IP, with its own count', async () => {
      for (let i = 0; i < ADMIN - 1; i++) assert.equal((await h.admin('/admin/organizations')).status, 200);
      // A wrong admin token counts too (guessing it is the risk).
      assert.equal((await h.request('/admin/organizations', { headers: { authorization: 'Bearer wrong-admin-token-0123456789' } })).status, 401);
      const body = await assertTooMany(await h.admin('/admin/organizations'), 60, 'admin N+1');
      assert.match(String(body.developerMessage), /admin/);
      assert.equal((await h.admin('/admin/organizations', { headers: { 'x-forwarded-for': '192.0.2.200' } })).status, 200, 'another address');
      assert.equal((await as(a, '/users/self')).status, 200, 'the organization APIs are not limited by it');
    });
  });
}

describe('rate limits: settings', () => {
  it('each limit is set from the environment, and 0 or off turns it off', () => {
    const c = loadConfig({
      HERALD_RATE_LIMIT_CREDENTIAL_PER_MINUTE: '7',
      HERALD_RATE_LIMIT_TOKEN_PER_MINUTE: 'off',
      HERALD_RATE_LIMIT_REFUSED_PER_MINUTE: '12',
      HERALD_RATE_LIMIT_ADMIN_PER_MINUTE: '0',
      HERALD_TRUST_PROXY: '10.0.0.0/8, loopback',
    });
    assert.deepEqual(
      [c.rateLimitCredentialPerMinute, c.rateLimitTokenPerMinute, c.rateLimitRefusedPerMinute, c.rateLimitAdminPerMinute, c.trustProxy],
      [7, 0, 12, 0, '10.0.0.0/8,loopback'],
    );
    assert.equal(loadConfig({}).rateLimitRefusedPerMinute, 0, 'refused credentials: off unless asked for');
    assert.throws(() => loadConfig({ HERALD_RATE_LIMIT_ADMIN_PER_MINUTE: '-1' }), /HERALD_RATE_LIMIT_ADMIN_PER_MINUTE/);
    assert.throws(() => loadConfig({ HERALD_TRUST_PROXY: 'proxy.example' }), /HERALD_TRUST_PROXY/);
  });

  it('with every limit off, nothing is limited or counted', async () => {
    const h = await startTestHerald(testDatabases()[0]!, {
      config: { rateLimitCredentialPerMinute: 0, rateLimitTokenPerMinute: 0, rateLimitRefusedPerMinute: 0, rateLimitAdminPerMinute: 0 },
    });
    try {
      for (let i = 0; i < 20; i++) {
        for (const r of [await h.request('/events'), await h.admin('/admin/organizations'), await h.request('/users/self', { headers: { authorization: 'Bearer guess' } })]) {
          await r.arrayBuffer();
          assert.notEqual(r.status, 429);
          assert.equal(r.headers.get('x-ratelimit-limit'), null);
        }
      }
    } finally {
      await h.stop();
    }
  });
});
