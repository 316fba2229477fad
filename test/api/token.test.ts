// POST /token on a real server: the jwt-bearer grant (API key -> access token), app
// connections and the refresh_token grant (rotation, invalidation on removal), RFC 6749
// error bodies, and the access token's format and expiry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const START = Date.UTC(2026, 4, 10, 8, 30, 0);

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
}

interface OAuthErrorBody {
  error: string;
  error_description: string;
}

interface Connection {
  connectionId: string;
  organizationUuid: string;
  userUuid: string;
  clientId: string;
  scopes: string[];
  livemode: boolean;
  refreshToken: string;
  created: string;
}

for (const backend of testDatabases()) {
  describe(`POST /token: ${backend.name}`, () => {
    const clock = new ManualClock(START);
    let h: TestHerald;
    // DELETE without a body (and so without a JSON content type, which needs one).
    const adminDelete = (path: string) =>
      h.request(path, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    let org: string;
    let apiKey: string;
    let apiKeyId: string;
    let userUuid: string;

    const form = (fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded') =>
      h.request('/token', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new URLSearchParams(fields).toString(),
      });

    async function expectOAuthError(r: Response, status: number, error: string, description?: RegExp): Promise<OAuthErrorBody> {
      assert.equal(r.status, status);
      const body = (await r.json()) as OAuthErrorBody;
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
      assert.equal(body.error, error);
      if (description) assert.match(body.error_description, description);
      return body;
    }

    async function connect(clientId: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<Connection> {
      const r = await h.admin(`/admin/organizations/${org}/app-connections`, {
        method: 'POST',
        body: JSON.stringify({ clientId, scopes, ...extra }),
      });
      assert.equal(r.status, 201, await r.clone().text());
      return (await r.json()) as Connection;
    }

    const refresh = (clientId: string, refreshToken: string) =>
      form({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });

    const self = (credential: string) => h.request('/users/self', { headers: { authorization: `Bearer ${credential}` } });

    before(async () => {
      h = await startTestHerald(backend, { clock });
      const o = await h.admin('/admin/organizations', { method: 'POST', body: JSON.stringify({ name: 'Acme' }) });
      org = ((await o.json()) as { organizationUuid: string }).organizationUuid;
      const k = await h.admin(`/admin/organizations/${org}/api-keys`, {
        method: 'POST',
        body: JSON.stringify({ name: 'k', scopes: ['READ:PRODUCT', 'READ:PURCHASE'], livemode: false }),
      });
      ({ apiKey, apiKeyId, userUuid } = (await k.json()) as { apiKey: string; apiKeyId: string; userUuid: string });
    });
    after(() => h.stop());

    describe('jwt-bearer grant (API key)', () => {
      it('answers an ES256 access token valid 7200 s, with the key organization, user, scopes and livemode', async () => {
        const r = await form({ grant_type: JWT_BEARER, client_id: 'my-client', assertion: apiKey });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        const body = (await r.json()) as TokenBody;
        assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
        assert.equal(body.token_type, 'Bearer');
        assert.equal(body.expires_in, 7200);

        const header = decodeProtectedHeader(body.access_token);
        assert.deepEqual(header, { alg: 'ES256', kid: 'herald-es256-1', typ: 'at+jwt' });
        const claims = decodeJwt(body.access_token);
        assert.equal(claims.iss, h.config.publicUrl ?? `http://${h.config.host}:${h.config.port}`);
        assert.equal(claims.sub, userUuid);
        assert.equal(claims.org, org);
        assert.deepEqual(claims.scopes, ['READ:PRODUCT', 'READ:PURCHASE']);
        assert.equal(claims.livemode, false);
        assert.equal(claims.cred, `api_key:${apiKeyId}`);
        // The key's client_id, not the form's (the original's clients send their partner id there).
        assert.equal(claims.client_id, decodeJwt(apiKey).client_id);
        assert.match(String(claims.uoid), /^[0-9a-f]{24}$/);
        assert.equal(claims.iat, START / 1000);
        assert.equal(claims.exp, START / 1000 + 7200);
        assert.ok(!body.access_token.includes(apiKey));

        assert.deepEqual(await (await self(body.access_token)).json(), { uuid: userUuid, organizationUuid: org });
      });

      it('client_id may be left out; expiry follows HERALD_ACCESS_TOKEN_TTL_SECONDS and the clock', async () => {
        clock.advance(3600_000);
        try {
          const r = await form({ grant_type: JWT_BEARER, assertion: apiKey });
          assert.equal(r.status, 200);
          const claims = decodeJwt(((await r.json()) as TokenBody).access_token);
          assert.equal(claims.iat, START / 1000 + 3600);
          assert.equal(claims.exp, START / 1000 + 3600 + 7200);
          assert.equal(claims.client_id, decodeJwt(apiKey).client_id);
        } finally {
          clock.set(START);
        }
      });

      it('invalid_grant for an unknown or a revoked key; invalid_request without an assertion', async () => {
        const unknown = await expectOAuthError(
          await form({ grant_type: JWT_BEARER, client_id: 'c', assertion: `hk_live_${'Z'.repeat(43)}` }),
          400,
          'invalid_grant',
          /^unknown API key$/,
        );
        assert.ok(!JSON.stringify(unknown).includes('ZZZZ'));
        await expectOAuthError(await form({ grant_type: JWT_BEARER, client_id: 'c', assertion: 'garbage' }), 400, 'invalid_grant');
        await expectOAuthError(await form({ grant_type: JWT_BEARER, client_id: 'c' }), 400, 'invalid_request', /^missing assertion$/);

        const k = (await (
          await h.admin(`/admin/organizations/${org}/api-keys`, { method: 'POST', body: JSON.stringify({ scopes: [] }) })
        ).json()) as { apiKey: string; apiKeyId: string };
        assert.equal((await form({ grant_type: JWT_BEARER, assertion: k.apiKey })).status, 200);
        await adminDelete(`/admin/organizations/${org}/api-keys/${k.apiKeyId}`);
        await expectOAuthError(
          await form({ grant_type: JWT_BEARER, assertion: k.apiKey }),
          400,
          'invalid_grant',
          /^the API key has been revoked$/,
        );
      });
    });

    describe('request errors', () => {
      it('invalid_request without grant_type, with a repeated parameter, or a body that is not a form', async () => {
        await expectOAuthError(await form({}), 400, 'invalid_request', /^missing grant_type$/);
        const twice = await h.request('/token', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=a&assertion=b`,
        });
        await expectOAuthError(twice, 400, 'invalid_request', /^assertion must be sent once$/);
        const json = await h.request('/token', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: JWT_BEARER, assertion: apiKey }),
        });
        await expectOAuthError(json, 400, 'invalid_request', /x-www-form-urlencoded/);
        const text = await h.request('/token', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
        await expectOAuthError(text, 400, 'invalid_request');
        await expectOAuthError(await h.request('/token', { method: 'POST' }), 400, 'invalid_request');
      });

      it('unsupported_grant_type for other grants', async () => {
        for (const grant of ['password', 'authorization_code', 'client_credentials']) {
          await expectOAuthError(await form({ grant_type: grant, client_id: 'c' }), 400, 'unsupported_grant_type');
        }
      });
    });

    describe('app connections and the refresh_token grant', () => {
      it('creates a connection with its own user and a first refresh token, stored only as a hash', async () => {
        const c = await connect('partner-app', ['READ:PURCHASE'], { livemode: false });
        assert.deepEqual(Object.keys(c).sort(), [
          'clientId',
          'connectionId',
          'created',
          'livemode',
          'organizationUuid',
          'refreshToken',
          'scopes',
          'userUuid',
        ]);
        assert.match(c.refreshToken, /^hrt_[A-Za-z0-9_-]{43}$/);
        assert.equal(c.livemode, false);
        assert.equal(c.created, new Date(START).toISOString());
        const stored = await h.db.query('select * from refresh_tokens where connection_id = $1', [c.connectionId]);
        assert.equal(stored.rows.length, 1);
        assert.ok(!JSON.stringify(stored.rows).includes(c.refreshToken));
        const user = await h.db.query<{ kind: string }>('select kind from users where uuid = $1', [c.userUuid]);
        assert.equal(user.rows[0]!.kind, 'APP');

        const list = await h.admin(`/admin/organizations/${org}/app-connections`);
        const text = await list.text();
        assert.ok(text.includes(c.connectionId));
        assert.ok(!text.includes(c.refreshToken));
        const bad = await h.admin(`/admin/organizations/${org}/app-connections`, {
          method: 'POST',
          body: JSON.stringify({ clientId: 'x', scopes: ['WRITE:EVERYTHING'] }),
        });
        assert.equal(bad.status, 400);
      });

      it('rotates: each refresh token works once and returns its replacement', async () => {
        const c = await connect('rotating-app', ['READ:PRODUCT']);
        const first = await refresh('rotating-app', c.refreshToken);
        assert.equal(first.status, 200);
        assert.equal(first.headers.get('cache-control'), 'no-store');
        const body = (await first.json()) as TokenBody;
        assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
        assert.equal(body.expires_in, 7200);
        assert.match(body.refresh_token!, /^hrt_/);
        assert.notEqual(body.refresh_token, c.refreshToken);
        const claims = decodeJwt(body.access_token);
        assert.equal(claims.cred, `app_connection:${c.connectionId}`);
        assert.equal(claims.sub, c.userUuid);
        assert.deepEqual(claims.scopes, ['READ:PRODUCT']);
        assert.deepEqual(await (await self(body.access_token)).json(), { uuid: c.userUuid, organizationUuid: org });

        await expectOAuthError(await refresh('rotating-app', c.refreshToken), 400, 'invalid_grant', /already used/);
        const second = await refresh('rotating-app', body.refresh_token!);
        assert.equal(second.status, 200);
        const third = (await second.json()) as TokenBody;
        assert.equal((await refresh('rotating-app', third.refresh_token!)).status, 200);
      });

      it('one winner when the same refresh token is spent twice at once', async () => {
        const c = await connect('racing-app', []);
        const answers = await Promise.all([1, 2, 3, 4].map(() => refresh('racing-app', c.refreshToken)));
        const statuses = answers.map((r) => r.status).sort();
        assert.deepEqual(statuses, [200, 400, 400, 400]);
      });

      it('invalid_grant for an unknown token or another client; invalid_client for a client never connected', async () => {
        const c = await connect('client-one', []);
        await connect('client-two', []);
        await expectOAuthError(await refresh('client-one', `hrt_${'x'.repeat(43)}`), 400, 'invalid_grant', /^unknown refresh token$/);
        await expectOAuthError(await refresh('client-two', c.refreshToken), 400, 'invalid_grant', /another client/);
        const body = await expectOAuthError(await refresh('nobody', c.refreshToken), 401, 'invalid_client');
        assert.ok(!JSON.stringify(body).includes(c.refreshToken));
        await expectOAuthError(
          await form({ grant_type: 'refresh_token', refresh_token: c.refreshToken }),
          400,
          'invalid_request',
          /^missing client_id$/,
        );
        await expectOAuthError(await form({ grant_type: 'refresh_token', client_id: 'client-one' }), 400, 'invalid_request');
        // None of these spent it.
        assert.equal((await refresh('client-one', c.refreshToken)).status, 200);
      });

      it('removing the connection invalidates its refresh tokens and its access tokens', async () => {
        const c = await connect('removed-app', ['READ:PRODUCT']);
        const r = (await (await refresh('removed-app', c.refreshToken)).json()) as TokenBody;
        assert.equal((await self(r.access_token)).status, 200);

        const del = await adminDelete(`/admin/organizations/${org}/app-connections/${c.connectionId}`);
        assert.equal(del.status, 204);
        await expectOAuthError(await refresh('removed-app', r.refresh_token!), 400, 'invalid_grant', /revoked: its app connection has been removed/);
        const revoked = await h.db.query<{ revoked_at: Date | null; used_at: Date | null }>(
          'select revoked_at, used_at from refresh_tokens where connection_id = $1 order by created_at, used_at nulls last',
          [c.connectionId],
        );
        assert.deepEqual(
          revoked.rows.map((t) => [t.used_at !== null, t.revoked_at !== null]),
          [
            [true, false],
            [false, true],
          ],
        );
        const after = await self(r.access_token);
        assert.equal(after.status, 401);
        assert.match(((await after.json()) as { developerMessage: string }).developerMessage, /app connection that has been removed/);
        assert.equal((await adminDelete(`/admin/organizations/${org}/app-connections/${c.connectionId}`)).status, 404);
      });

      it('a refresh token expires after 90 days unused', async () => {
        const c = await connect('sleepy-app', []);
        clock.advance(90 * 24 * 3600 * 1000);
        try {
          await expectOAuthError(await refresh('sleepy-app', c.refreshToken), 400, 'invalid_grant', /^the refresh token has expired$/);
        } finally {
          clock.set(START);
        }
      });
    });
  });
}
