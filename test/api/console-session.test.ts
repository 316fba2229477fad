// The Console's sign-in on a real server: an API key or the admin token traded for an
// HttpOnly SameSite=Strict cookie; the cookie opens exactly what the credential opens
// (its organization, its scopes; the operator's admin routes), changes need the CSRF
// token, sessions expire and end with the key, and nothing else is reachable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidV1 } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, subscribe, type TestCredential } from '../helpers/identity.js';
import { startReceiver } from '../helpers/receiver.js';

const START = Date.UTC(2026, 10, 26, 9, 0, 0);

interface Session {
  kind: string;
  organizationUuid: string | null;
  organizationName: string | null;
  scopes: string[];
  livemode: boolean | null;
  expiresAt: string;
  csrfToken: string;
}

for (const backend of testDatabases()) {
  describe(`Console session: ${backend.name}`, () => {
    const clock = new ManualClock(START);
    let h: TestHerald;
    let acme: TestCredential;
    let other: TestCredential;

    before(async () => {
      h = await startTestHerald(backend, { clock, config: { consoleSessionSeconds: 600, credentialCacheSeconds: 0 } });
      acme = await createCredential(h, ['READ:PURCHASE', 'READ:PRODUCT']);
      other = await createCredential(h, ['READ:PURCHASE', 'READ:PRODUCT']);
    });
    after(() => h.stop());

    async function signIn(body: unknown): Promise<{ res: Response; cookie?: string; session: Session }> {
      const res = await h.request('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const setCookie = res.headers.get('set-cookie') ?? undefined;
      return { res, cookie: setCookie?.split(';')[0], session: (await res.json()) as Session };
    }
    const withCookie = (cookie: string, path: string, init: RequestInit = {}) =>
      h.request(path, { ...init, headers: { cookie, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });

    it('an API key signs in: an HttpOnly, SameSite=Strict cookie, never the key, and the session it opens', async () => {
      const { res, session } = await signIn({ apiKey: acme.apiKey });
      assert.equal(res.status, 200);
      const setCookie = res.headers.get('set-cookie')!;
      assert.match(setCookie, /^herald_console=o\./);
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Strict/i);
      assert.match(setCookie, /Path=\//);
      assert.ok(!setCookie.includes(acme.apiKey), 'the cookie holds an access token, not the key');
      assert.ok(!JSON.stringify(session).includes(acme.apiKey));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(session.kind, 'organization');
      assert.equal(session.organizationUuid, acme.organizationUuid);
      assert.equal(session.organizationName, 'Test Org');
      assert.deepEqual([...session.scopes].sort(), ['READ:PRODUCT', 'READ:PURCHASE']);
      assert.equal(session.expiresAt, new Date(START + 600_000).toISOString());
      assert.ok(session.csrfToken.length >= 40);
    });

    it('the cookie reads what the key reads, in its organization only', async () => {
      const { cookie, session } = await signIn({ apiKey: acme.apiKey });
      assert.equal((await withCookie(cookie!, '/organizations/self/subscriptions')).status, 200);
      assert.equal((await withCookie(cookie!, `/organizations/${acme.organizationUuid}/subscriptions`)).status, 200);
      const foreign = await withCookie(cookie!, `/organizations/${other.organizationUuid}/subscriptions`);
      assert.equal(foreign.status, 403);
      assert.equal(((await foreign.json()) as { errorType: string }).errorType, 'FORBIDDEN');
      // An answer for this session only: no shared cache keeps it.
      const answer = await withCookie(cookie!, '/organizations/self/subscriptions');
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.match(answer.headers.get('vary') ?? '', /cookie/i);
      // The key's scopes, not more: READ:FINANCE is not among them.
      const finance = await withCookie(cookie!, '/organizations/self/subscriptions', {
        method: 'POST',
        headers: { 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({
          uuid: uuidV1(),
          transportName: 'WEBHOOK',
          eventNames: ['InvoiceCreated'],
          destination: 'http://127.0.0.1:9/x',
          contactEmail: 'a@example.com',
        }),
      });
      assert.equal(finance.status, 403);
      assert.equal(((await finance.json()) as { errorType: string }).errorType, 'INSUFFICIENT_SCOPE');
      // Only the routes the Console calls take the cookie: not the business APIs.
      for (const path of ['/organizations/self', '/organizations/self/products', '/users/self', '/payment-terminals', '/undelivered']) {
        assert.equal((await withCookie(cookie!, path)).status, 401, path);
      }
      // An organization's session is not the operator's.
      const admin = await withCookie(cookie!, '/admin/organizations');
      assert.equal(admin.status, 401);
    });

    it('a change made with the cookie needs the CSRF token, and a wrong one changes nothing', async () => {
      const { cookie, session } = await signIn({ apiKey: acme.apiKey });
      const body = JSON.stringify({
        uuid: uuidV1(),
        transportName: 'WEBHOOK',
        eventNames: ['PurchaseCreated'],
        destination: 'http://127.0.0.1:9/x',
        contactEmail: 'a@example.com',
      });
      for (const headers of [{}, { 'x-csrf-token': 'nope' }, { 'x-csrf-token': session.csrfToken.slice(1) + 'A' }] as Record<
        string,
        string
      >[]) {
        const res = await withCookie(cookie!, '/organizations/self/subscriptions', { method: 'POST', body, headers });
        assert.equal(res.status, 403);
        assert.equal(((await res.json()) as { errorType: string }).errorType, 'CSRF_TOKEN_INVALID');
      }
      const list = (await (await withCookie(cookie!, '/organizations/self/subscriptions')).json()) as unknown[];
      assert.equal(list.length, 0, 'nothing was created');
      // With the token the request reaches the route (which then checks the destination).
      const res = await withCookie(cookie!, '/organizations/self/subscriptions', {
        method: 'POST',
        body,
        headers: { 'x-csrf-token': session.csrfToken },
      });
      assert.notEqual(res.status, 403);
      assert.notEqual(res.status, 401);
    });

    it('PUT and DELETE need the CSRF token too', async () => {
      const as = asCredential(h, acme);
      const receiver = await startReceiver();
      try {
        const { uuid } = await subscribe(h, acme, {
          eventNames: ['PurchaseCreated'],
          destination: receiver.url,
          contactEmail: 'a@example.com',
        });
        const { cookie } = await signIn({ apiKey: acme.apiKey });
        const put = await withCookie(cookie!, `/organizations/self/subscriptions/${uuid}`, {
          method: 'PUT',
          body: JSON.stringify({ contactEmail: 'b@example.com' }),
        });
        assert.equal(put.status, 403);
        const del = await withCookie(cookie!, `/organizations/self/subscriptions/${uuid}`, { method: 'DELETE' });
        assert.equal(del.status, 403);
        const list = (await (await as('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; contactEmail: string }[];
        assert.deepEqual(
          list.filter((s) => s.uuid === uuid).map((s) => s.contactEmail),
          ['a@example.com'],
        );
        assert.equal((await as('DELETE', `/organizations/self/subscriptions/${uuid}`)).status, 204);
      } finally {
        await receiver.close();
      }
    });

    it("another site's page cannot sign a visitor in (login CSRF): JSON only, from this site only", async () => {
      const form = await h.request('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `apiKey=${encodeURIComponent(acme.apiKey)}`,
      });
      assert.equal(form.status, 400);
      assert.equal(form.headers.get('set-cookie'), null);
      const text = await h.request('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ apiKey: acme.apiKey }),
      });
      assert.ok(text.status === 400 || text.status === 415, String(text.status));
      assert.equal(text.headers.get('set-cookie'), null);
      for (const headers of [
        { origin: 'http://evil.example' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
      ] as Record<string, string>[]) {
        const res = await h.request('/console/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ apiKey: acme.apiKey }),
        });
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(res.headers.get('set-cookie'), null);
      }
      const own = await h.request('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: h.url, 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ apiKey: acme.apiKey }),
      });
      assert.equal(own.status, 200);
    });

    it('over HTTPS (HERALD_PUBLIC_URL https) the cookie is Secure and __Host- named', async () => {
      const secure = await startTestHerald(backend, {
        testDb: h.testDb,
        clock,
        config: { publicUrl: 'https://herald.example', encryptionKey: h.config.encryptionKey },
      });
      try {
        const res = await secure.request('/console/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ apiKey: acme.apiKey }),
        });
        assert.equal(res.status, 200);
        const setCookie = res.headers.get('set-cookie')!;
        assert.match(setCookie, /^__Host-herald_console=o\./);
        assert.match(setCookie, /; Secure/i);
        assert.match(setCookie, /Path=\//);
        assert.doesNotMatch(setCookie, /Domain=/i);
        const cookie = setCookie.split(';')[0]!;
        assert.equal((await secure.request('/organizations/self/subscriptions', { headers: { cookie } })).status, 200);
      } finally {
        await secure.stop();
      }
    });

    it("an operator's session ends when it expires and when the admin token changes", async () => {
      const { cookie } = await signIn({ adminToken: TEST_ADMIN_TOKEN });
      assert.equal((await withCookie(cookie!, '/admin/organizations')).status, 200);
      const rotated = await startTestHerald(backend, {
        testDb: h.testDb,
        clock,
        config: { adminToken: 'a-new-admin-token-0123456789abcdef', encryptionKey: h.config.encryptionKey },
      });
      try {
        const res = await rotated.request('/admin/organizations', { headers: { cookie: cookie! } });
        assert.equal(res.status, 401);
        assert.match(((await res.json()) as { developerMessage: string }).developerMessage, /admin token changed/);
      } finally {
        await rotated.stop();
      }
      clock.advance(601_000);
      assert.equal((await withCookie(cookie!, '/admin/organizations')).status, 401);
    });

    it('GET /console/session answers the session and its CSRF token; DELETE signs out', async () => {
      const { cookie, session } = await signIn({ apiKey: acme.apiKey });
      const got = await withCookie(cookie!, '/console/session');
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await got.json(), session);
      assert.equal((await h.request('/console/session')).status, 401);
      const noCsrf = await withCookie(cookie!, '/console/session', { method: 'DELETE' });
      assert.equal(noCsrf.status, 403);
      const out = await withCookie(cookie!, '/console/session', { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } });
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie')!, /herald_console=;.*Expires=Thu, 01 Jan 1970/i);
    });

    it('a session ends when it expires and when its API key is revoked', async () => {
      const { cookie } = await signIn({ apiKey: acme.apiKey });
      clock.advance(601_000);
      const expired = await withCookie(cookie!, '/organizations/self/subscriptions');
      assert.equal(expired.status, 401);
      assert.match(((await expired.json()) as { developerMessage: string }).developerMessage, /expired/);
      assert.match(expired.headers.get('set-cookie') ?? '', /herald_console=;/, 'the dead cookie is cleared');

      const k = await createCredential(h, ['READ:PURCHASE'], { organizationUuid: acme.organizationUuid });
      const fresh = await signIn({ apiKey: k.apiKey });
      assert.equal((await withCookie(fresh.cookie!, '/organizations/self/subscriptions')).status, 200);
      const del = await h.request(`/admin/organizations/${acme.organizationUuid}/api-keys/${k.apiKeyId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      assert.equal(del.status, 204);
      assert.equal((await withCookie(fresh.cookie!, '/organizations/self/subscriptions')).status, 401);
    });

    it('the admin token signs the operator in: admin routes open, organization routes do not', async () => {
      const { res, cookie, session } = await signIn({ adminToken: TEST_ADMIN_TOKEN });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(session.kind, 'admin');
      assert.equal(session.organizationUuid, null);
      assert.ok(!res.headers.get('set-cookie')!.includes(TEST_ADMIN_TOKEN));
      assert.equal((await withCookie(cookie!, '/admin/organizations')).status, 200);
      assert.equal((await withCookie(cookie!, `/organizations/${acme.organizationUuid}/subscriptions`)).status, 401);
      const noCsrf = await withCookie(cookie!, '/admin/organizations', { method: 'POST', body: JSON.stringify({ name: 'X' }) });
      assert.equal(noCsrf.status, 403);
      const created = await withCookie(cookie!, '/admin/organizations', {
        method: 'POST',
        body: JSON.stringify({ name: 'Made in the Console' }),
        headers: { 'x-csrf-token': session.csrfToken },
      });
      assert.equal(created.status, 201);
      // A forged operator cookie (another expiry, the same MAC) is refused.
      const [, exp, mac] = cookie!.split('=')[1]!.split('.');
      const forged = `herald_console=a.${Number(exp) + 86400}.${mac}`;
      assert.equal((await withCookie(forged, '/admin/organizations')).status, 401);
    });

    it('wrong credentials get 401 and no cookie; bad bodies get 400', async () => {
      for (const body of [
        { apiKey: 'hk_live_nope' },
        { apiKey: acme.apiKey.slice(0, -2) + 'xx' },
        { adminToken: 'not-the-admin-token-at-all-0000' },
      ]) {
        const { res } = await signIn(body);
        assert.equal(res.status, 401, JSON.stringify(body));
        assert.equal(res.headers.get('set-cookie'), null);
      }
      for (const body of [
        {},
        { apiKey: acme.apiKey, adminToken: TEST_ADMIN_TOKEN },
        { apiKey: 'x'.repeat(5000) },
        { apiKey: [] },
        { other: 1 },
      ]) {
        const { res, session } = await signIn(body);
        assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal((session as unknown as { errorType: string }).errorType, 'VALIDATION_ERROR');
      }
      const garbage = await h.request('/organizations/self/subscriptions', { headers: { cookie: 'herald_console=garbage' } });
      assert.equal(garbage.status, 401);
    });

    it('sign-in attempts are rate limited per address, with POST /token', async () => {
      const limited = await startTestHerald(backend, {
        testDb: h.testDb,
        clock,
        config: { rateLimitTokenPerMinute: 2, encryptionKey: h.config.encryptionKey },
      });
      try {
        const attempt = () =>
          limited.request('/console/session', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ apiKey: 'hk_live_guess' }),
          });
        assert.equal((await attempt()).status, 401);
        assert.equal((await attempt()).status, 401);
        const third = await attempt();
        assert.equal(third.status, 429);
        assert.equal(third.headers.get('set-cookie'), null);
        // Reading the session is not a sign-in: it does not count.
        assert.equal((await limited.request('/console/session')).status, 401);
      } finally {
        await limited.stop();
      }
    });

    it('an Authorization header wins over the cookie', async () => {
      const { cookie } = await signIn({ apiKey: acme.apiKey });
      const res = await withCookie(cookie!, `/organizations/${other.organizationUuid}/subscriptions`, {
        headers: { authorization: other.auth },
      });
      assert.equal(res.status, 200);
    });

    it('the Console page is served with a strict Content-Security-Policy, every asset from Herald', async () => {
      // Built by `npm run build` (npm install and npm ci run it).
      const res = await h.request('/console/');
      assert.equal(res.status, 200, 'the Console is built (npm run build)');
      const html = await res.text();
      assert.match(res.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
      assert.doesNotMatch(html, /https?:\/\//, 'no asset from elsewhere');
      for (const asset of ['app.js', 'styles.css']) {
        const a = await h.request(`/console/${asset}`);
        assert.equal(a.status, 200, asset);
      }
      const redirect = await h.request('/console', { redirect: 'manual' });
      assert.ok([301, 302].includes(redirect.status));
    });
  });
}
