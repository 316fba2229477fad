// Credentials on a real server: API keys (admin API), bearer authentication and every
// 401 cause, 403 for scopes and other organizations, `self`, revocation (at once for a
// key; within the cache bound for access tokens), and the identity events.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SecretBox } from '../../src/domain/sealed-secrets.js';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { ManualClock } from '../../src/clock.js';
import errorHandler from '../../src/api/plugins/error-handler.js';
import { requireCredential, requireScopes, resolveOrganizationUuid, principalOf } from '../../src/api/plugins/auth.js';
import type { DomainContext } from '../../src/domain/context.js';
import { makeLogger } from '../../src/logger.js';
import { startHerald, type RunningHerald } from '../../src/runtime/start-herald.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const START = Date.UTC(2026, 2, 1, 12, 0, 0);

interface CreatedKey {
  apiKeyId: string;
  apiKey: string;
  organizationUuid: string;
  userUuid: string;
  clientId: string;
  name: string;
  scopes: string[];
  livemode: boolean;
  prefix: string;
  created: string;
}

interface ErrorBody {
  developerMessage: string;
  errorType: string;
  violations: { propertyName: string; developerMessage: string }[];
}

for (const backend of testDatabases()) {
  describe(`credentials: ${backend.name}`, () => {
    const clock = new ManualClock(START);
    let h: TestHerald;
    // DELETE without a body (and so without a JSON content type, which needs one).
    const adminDelete = (path: string) =>
      h.request(path, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    let orgA: string;
    let orgB: string;

    async function createOrg(name: string): Promise<string> {
      const r = await h.admin('/admin/organizations', { method: 'POST', body: JSON.stringify({ name }) });
      assert.equal(r.status, 201);
      return ((await r.json()) as { organizationUuid: string }).organizationUuid;
    }

    async function createKey(org: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<CreatedKey> {
      const r = await h.admin(`/admin/organizations/${org}/api-keys`, {
        method: 'POST',
        body: JSON.stringify({ name: 'test key', scopes, livemode: true, ...extra }),
      });
      assert.equal(r.status, 201, await r.clone().text());
      return (await r.json()) as CreatedKey;
    }

    async function tokenFor(apiKey: string, base = h.url): Promise<string> {
      const r = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, client_id: 'test-client', assertion: apiKey }).toString(),
      });
      assert.equal(r.status, 200, await r.clone().text());
      return ((await r.json()) as { access_token: string }).access_token;
    }

    const self = (credential: string, base = h.url) =>
      fetch(`${base}/users/self`, { headers: { authorization: `Bearer ${credential}` } });

    async function expect401(r: Response, message: RegExp): Promise<void> {
      assert.equal(r.status, 401);
      const body = (await r.json()) as ErrorBody;
      assert.deepEqual(Object.keys(body).sort(), ['developerMessage', 'errorType', 'violations']);
      assert.equal(body.errorType, 'UNAUTHORIZED');
      assert.match(body.developerMessage, message);
    }

    before(async () => {
      h = await startTestHerald(backend, { clock });
      orgA = await createOrg('Acme');
      orgB = await createOrg('Globex');
    });
    after(() => h.stop());

    describe('admin API: API keys', () => {
      it('creates a key, shown once, stored only as its SHA-256, with its own user', async () => {
        const key = await createKey(orgA, ['READ:PRODUCT', 'READ:PURCHASE'], { name: 'pos integration' });
        assert.deepEqual(Object.keys(key).sort(), [
          'apiKey',
          'apiKeyId',
          'clientId',
          'created',
          'livemode',
          'name',
          'organizationUuid',
          'prefix',
          'scopes',
          'userUuid',
        ]);
        // A signed JWT of the original's shape (fact: clients decode it without verifying).
        assert.match(key.apiKey, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        assert.deepEqual(decodeProtectedHeader(key.apiKey), { alg: 'RS256', typ: 'JWT', kid: 'herald-apikey-rs256-1' });
        const claims = decodeJwt(key.apiKey);
        const iat = Math.floor(START / 1000);
        assert.deepEqual(claims, {
          iss: 'Herald',
          aud: 'API',
          exp: iat + 30 * 365 * 24 * 3600,
          iat,
          sub: key.userUuid,
          renewed: false,
          scope: ['READ:PRODUCT', 'READ:PURCHASE'],
          user: { userType: 'USER', uuid: key.userUuid, orgUuid: orgA, userRole: 'OWNER' },
          type: 'user-assertion',
          client_id: key.clientId,
        });
        assert.match(key.clientId, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-/);
        assert.equal(key.prefix, `…${key.apiKey.slice(-12)}`);
        assert.deepEqual(key.scopes, ['READ:PRODUCT', 'READ:PURCHASE']);
        assert.equal(key.livemode, true);
        assert.equal(key.name, 'pos integration');
        assert.equal(key.organizationUuid, orgA);
        assert.equal(key.created, new Date(START).toISOString());

        const rows = await h.db.query<Record<string, unknown>>('select * from api_keys where id = $1', [key.apiKeyId]);
        assert.equal(rows.rows[0]!.secret_hash, createHash('sha256').update(key.apiKey).digest('hex'));
        assert.ok(!JSON.stringify(rows.rows).includes(key.apiKey), 'the secret itself is not stored');
        const user = await h.db.query<{ kind: string; organization_uuid: string }>('select * from users where uuid = $1', [
          key.userUuid,
        ]);
        assert.equal(user.rows[0]!.kind, 'API_KEY');
        assert.equal(user.rows[0]!.organization_uuid, orgA);

        const one = await h.admin(`/admin/organizations/${orgA}/api-keys/${key.apiKeyId}`);
        assert.equal(one.status, 200);
        const listed = await h.admin(`/admin/organizations/${orgA}/api-keys`);
        const listText = await listed.text();
        assert.ok(listText.includes(key.apiKeyId));
        assert.ok(!listText.includes(key.apiKey), 'a listing never shows the secret');
        const got = (await one.json()) as Record<string, unknown>;
        assert.equal(got.apiKey, undefined);
        assert.equal(got.prefix, key.prefix);
      });

      it('makes test-mode keys (livemode false), defaults name and livemode', async () => {
        const test = await createKey(orgA, ['READ:PRODUCT'], { livemode: false });
        assert.equal(test.livemode, false);
        assert.equal((await self(test.apiKey)).status, 200);
        const r = await h.admin(`/admin/organizations/${orgA}/api-keys`, {
          method: 'POST',
          body: JSON.stringify({ scopes: [] }),
        });
        assert.equal(r.status, 201);
        const k = (await r.json()) as CreatedKey;
        assert.equal(k.name, 'API key');
        assert.equal(k.livemode, true);
      });

      it('answers 400 with the spec body for an unknown scope, and for a body without scopes', async () => {
        const r = await h.admin(`/admin/organizations/${orgA}/api-keys`, {
          method: 'POST',
          body: JSON.stringify({ name: 'x', scopes: ['READ:PRODUCT', 'READ:EVERYTHING'], livemode: true }),
        });
        assert.equal(r.status, 400);
        const body = (await r.json()) as ErrorBody;
        assert.equal(body.errorType, 'VALIDATION_ERROR');
        assert.match(body.developerMessage, /unknown scope "READ:EVERYTHING"; known scopes are READ:PURCHASE/);
        assert.deepEqual(body.violations, [{ propertyName: 'scopes.1', developerMessage: 'unknown scope "READ:EVERYTHING"' }]);

        const missing = await h.admin(`/admin/organizations/${orgA}/api-keys`, { method: 'POST', body: JSON.stringify({ name: 'x' }) });
        assert.equal(missing.status, 400);
        assert.equal(((await missing.json()) as ErrorBody).violations[0]!.propertyName, 'scopes');
      });

      it('answers 404 for an organization that does not exist', async () => {
        for (const org of ['7d3f2a70-0000-11f1-8000-000000000000', 'not-a-uuid']) {
          const r = await h.admin(`/admin/organizations/${org}/api-keys`, {
            method: 'POST',
            body: JSON.stringify({ scopes: ['READ:PRODUCT'] }),
          });
          assert.equal(r.status, 404);
          assert.equal(((await r.json()) as ErrorBody).errorType, 'ORGANIZATION_NOT_FOUND');
        }
      });

      it("keeps organizations apart: one organization's path never reaches another's keys or connections", async () => {
        const key = await createKey(orgA, ['READ:PRODUCT']);
        const viaB = `/admin/organizations/${orgB}/api-keys/${key.apiKeyId}`;
        assert.equal((await h.admin(viaB)).status, 404);
        assert.equal((await adminDelete(viaB)).status, 404);
        const listB = (await (await h.admin(`/admin/organizations/${orgB}/api-keys`)).json()) as CreatedKey[];
        assert.ok(listB.every((k) => k.organizationUuid === orgB));
        assert.ok(!listB.some((k) => k.apiKeyId === key.apiKeyId));
        // The key still works: the DELETE through B changed nothing.
        assert.equal((await self(key.apiKey)).status, 200);

        const conn = await h.admin(`/admin/organizations/${orgA}/app-connections`, {
          method: 'POST',
          body: JSON.stringify({ clientId: 'iso-app', scopes: ['READ:PRODUCT'] }),
        });
        const { connectionId } = (await conn.json()) as { connectionId: string };
        const connViaB = `/admin/organizations/${orgB}/app-connections/${connectionId}`;
        assert.equal((await h.admin(connViaB)).status, 404);
        assert.equal((await adminDelete(connViaB)).status, 404);
        const connsB = (await (await h.admin(`/admin/organizations/${orgB}/app-connections`)).json()) as unknown[];
        assert.deepEqual(connsB, []);
        assert.equal((await h.admin(`/admin/organizations/${orgA}/app-connections/${connectionId}`)).status, 200);
      });

      it('requires the admin token on the key and connection routes', async () => {
        for (const path of [`/admin/organizations/${orgA}/api-keys`, `/admin/organizations/${orgA}/app-connections`]) {
          assert.equal((await h.request(path)).status, 401);
          const key = await createKey(orgA, ['READ:PRODUCT']);
          // An API key is not an admin token.
          assert.equal((await h.request(path, { headers: { authorization: `Bearer ${key.apiKey}` } })).status, 401);
        }
      });
    });

    describe('GET /users/self', () => {
      it('answers the user and organization of an API key and of an access token minted from it', async () => {
        const key = await createKey(orgA, ['READ:PRODUCT']);
        const direct = await self(key.apiKey);
        assert.equal(direct.status, 200);
        assert.deepEqual(await direct.json(), { uuid: key.userUuid, organizationUuid: orgA });
        const viaToken = await self(await tokenFor(key.apiKey));
        assert.deepEqual(await viaToken.json(), { uuid: key.userUuid, organizationUuid: orgA });

        const keyB = await createKey(orgB, []);
        assert.deepEqual(await (await self(keyB.apiKey)).json(), { uuid: keyB.userUuid, organizationUuid: orgB });
      });

      it('accepts the scheme in any case, and no credential of another kind', async () => {
        const key = await createKey(orgA, []);
        const r = await h.request('/users/self', { headers: { authorization: `bearer ${key.apiKey}` } });
        assert.equal(r.status, 200);
      });
    });

    describe('401: every cause says which', () => {
      let key: CreatedKey;
      let token: string;
      before(async () => {
        key = await createKey(orgA, ['READ:PRODUCT']);
        token = await tokenFor(key.apiKey);
      });

      it('missing Authorization header', async () => {
        const r = await h.request('/users/self');
        assert.equal(r.headers.get('www-authenticate'), 'Bearer');
        await expect401(r, /^missing Authorization header/);
      });

      it('says invalid_token in WWW-Authenticate when a credential is refused (RFC 6750)', async () => {
        const r = await self('not-a-token');
        assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
        assert.equal(r.status, 401);
        assert.equal((await self(key.apiKey)).headers.get('www-authenticate'), null);
      });

      it('malformed Authorization header', async () => {
        for (const header of [`Basic ${key.apiKey}`, 'Bearer', `Bearer ${key.apiKey} extra`]) {
          const r = await h.request('/users/self', { headers: { authorization: header } });
          await expect401(r, /^malformed Authorization header/);
        }
      });

      it('malformed token', async () => {
        for (const t of ['not-a-token', 'abc.def', 'eyJhbGciOiJFUzI1NiJ9.e30', `${token}x.y`]) {
          await expect401(await self(t), /^malformed access token/);
        }
      });

      it('malformed: a JWT signed by this Herald that is not an access token, or lacks claims', async () => {
        // Sign with Herald's own key (read from the database), so only the shape is wrong.
        const row = await h.db.query<{ private_jwk: string }>("select private_jwk from token_signing_keys where kid = 'herald-es256-1'");
        const opened = new SecretBox(h.config.encryptionKey!).open(row.rows[0]!.private_jwk, 'token-signing-key');
        const ours = await importJWK(JSON.parse(opened) as JWK, 'ES256');
        const claims = decodeJwt(token);
        const wrongTyp = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'herald-es256-1', typ: 'JWT' }).sign(ours);
        await expect401(await self(wrongTyp), /^malformed access token: unexpected "typ"/);
        const { cred: _cred, ...noCred } = claims;
        const lacking = await new SignJWT(noCred).setProtectedHeader({ alg: 'ES256', kid: 'herald-es256-1', typ: 'at+jwt' }).sign(ours);
        await expect401(await self(lacking), /^malformed access token: missing or invalid claims$/);
        // The control: the same key and header with the claims intact is accepted.
        const intact = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'herald-es256-1', typ: 'at+jwt' }).sign(ours);
        assert.equal((await self(intact)).status, 200);
      });

      it('bad signature: altered claims, another key, alg none', async () => {
        const [header, , signature] = token.split('.');
        const claims = decodeJwt(token);
        const forged = Buffer.from(JSON.stringify({ ...claims, org: orgB })).toString('base64url');
        await expect401(await self(`${header}.${forged}.${signature}`), /^bad access token signature/);

        // Same kid and claims, signed by a key this Herald never had.
        const other = await generateKeyPair('ES256', { extractable: true });
        assert.ok((await exportJWK(other.publicKey)).x);
        const foreign = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'herald-es256-1', typ: 'at+jwt' })
          .sign(other.privateKey);
        await expect401(await self(foreign), /^bad access token signature/);

        const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'herald-es256-1', typ: 'at+jwt' })).toString('base64url')}.${forged}.`;
        await expect401(await self(none), /^bad access token signature$/);

        const unknownKid = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'someone-else', typ: 'at+jwt' })
          .sign(other.privateKey);
        await expect401(await self(unknownKid), /^bad access token signature: it was not signed by this Herald/);
      });

      it('expired token (by the injected clock)', async () => {
        const fresh = await tokenFor(key.apiKey);
        clock.advance(7199 * 1000);
        try {
          assert.equal((await self(fresh)).status, 200);
          clock.advance(1000);
          await expect401(await self(fresh), /^the access token has expired$/);
        } finally {
          clock.set(START);
        }
      });

      it('unknown API key', async () => {
        await expect401(await self(`hk_live_${'A'.repeat(43)}`), /^unknown API key$/);
      });

      it('revoked API key: at once', async () => {
        const k = await createKey(orgA, ['READ:PRODUCT']);
        assert.equal((await self(k.apiKey)).status, 200);
        const del = await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`);
        assert.equal(del.status, 204);
        await expect401(await self(k.apiKey), /^the API key has been revoked$/);
        // Gone from the admin API too, and a second delete finds nothing.
        assert.equal((await h.admin(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`)).status, 404);
        const again = await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`);
        assert.equal(again.status, 404);
        assert.equal(((await again.json()) as ErrorBody).errorType, 'API_KEY_NOT_FOUND');
      });

      it('token of a revoked key, and of a removed app connection', async () => {
        const k = await createKey(orgA, ['READ:PRODUCT']);
        const t = await tokenFor(k.apiKey);
        assert.equal((await self(t)).status, 200);
        await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`);
        await expect401(await self(t), /^the access token was issued from an API key that has been revoked$/);

        const conn = (await (
          await h.admin(`/admin/organizations/${orgA}/app-connections`, {
            method: 'POST',
            body: JSON.stringify({ clientId: 'partner-app', scopes: ['READ:PRODUCT'] }),
          })
        ).json()) as { connectionId: string; refreshToken: string };
        const granted = await h.request('/token', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'partner-app', refresh_token: conn.refreshToken }),
        });
        const appToken = ((await granted.json()) as { access_token: string }).access_token;
        assert.equal((await self(appToken)).status, 200);
        await adminDelete(`/admin/organizations/${orgA}/app-connections/${conn.connectionId}`);
        await expect401(await self(appToken), /^the access token was issued to an app connection that has been removed$/);
      });

      it('no error body repeats the credential it was given', async () => {
        const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
        for (const c of [`hk_live_${'B'.repeat(43)}`, `${token}x`, tampered, key.apiKey.replace('hk_live_', 'hk_test_')]) {
          const text = await (await self(c)).text();
          assert.ok(!text.includes(c.slice(8, 40)), text);
        }
      });
    });

    describe('revocation of access tokens in another process: within HERALD_CREDENTIAL_CACHE_SECONDS', () => {
      let other: RunningHerald;
      before(async () => {
        // A second Herald on the same database, with its own memory: what another process is.
        other = await startHerald({
          config: h.config,
          roles: { api: true, worker: false },
          log: makeLogger({ logLevel: 'silent', logFormat: 'json' }),
          clock,
          db: h.db,
        });
      });
      after(() => other.close());

      it('accepts tokens signed by the first process (one signing key per database)', async () => {
        const k = await createKey(orgA, []);
        assert.equal((await self(await tokenFor(k.apiKey), other.url)).status, 200);
        assert.equal((await self(await tokenFor(k.apiKey, other.url))).status, 200);
        const keys = await h.db.query<{ kid: string }>('select kid from token_signing_keys order by kid');
        assert.deepEqual(keys.rows.map((r) => r.kid), ['herald-apikey-rs256-1', 'herald-es256-1']);
      });

      it('the key at once everywhere; its token at once where revoked, elsewhere within the bound', async () => {
        assert.equal(h.config.credentialCacheSeconds, 5);
        const k = await createKey(orgA, ['READ:PRODUCT']);
        const t = await tokenFor(k.apiKey);
        assert.equal((await self(t, other.url)).status, 200); // the other process now trusts it for 5 s
        clock.advance(2000);
        const del = await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`);
        assert.equal(del.status, 204);

        await expect401(await self(k.apiKey, other.url), /revoked/);
        await expect401(await self(t), /revoked/);
        assert.equal((await self(t, other.url)).status, 200, 'still inside the bound in the other process');
        clock.advance(2999);
        assert.equal((await self(t, other.url)).status, 200);
        clock.advance(1);
        await expect401(await self(t, other.url), /^the access token was issued from an API key that has been revoked$/);
        clock.set(START);
      });
    });

    describe('organization routes: self, other organizations, scopes', () => {
      let probe: FastifyInstance;
      let probeUrl: string;
      let key: CreatedKey;
      before(async () => {
        key = await createKey(orgA, ['READ:PRODUCT']);
        // resolveOrganizationUuid and requireScopes exactly as organization routes use them.
        const ctx: DomainContext = {
          db: h.db,
          clock,
          config: h.config,
          log: makeLogger({ logLevel: 'silent', logFormat: 'json' }),
          secrets: new SecretBox(h.config.encryptionKey!),
        };
        probe = Fastify();
        await probe.register(errorHandler);
        await probe.register(async (scoped) => {
          requireCredential(scoped, ctx);
          scoped.get('/organizations/:organizationUuid/probe/:scope', async (req) => {
            const { organizationUuid, scope } = req.params as { organizationUuid: string; scope: 'READ:PRODUCT' };
            const org = resolveOrganizationUuid(req, organizationUuid);
            requireScopes(principalOf(req), [scope]);
            return { org };
          });
        });
        probeUrl = await probe.listen({ port: 0, host: '127.0.0.1' });
      });
      after(() => probe.close());

      const get = (base: string, path: string, credential: string) =>
        fetch(`${base}${path}`, { headers: { authorization: `Bearer ${credential}` } });

      it('self is the credential organization; its own uuid too', async () => {
        for (const cred of [key.apiKey, await tokenFor(key.apiKey)]) {
          for (const org of ['self', orgA, orgA.toUpperCase()]) {
            const r = await get(probeUrl, `/organizations/${org}/probe/READ:PRODUCT`, cred);
            assert.equal(r.status, 200);
            assert.deepEqual(await r.json(), { org: orgA });
          }
        }
      });

      it('another organization, existing or not, is 403 with the same body', async () => {
        const bodies = new Set<string>();
        for (const org of [orgB, '11111111-1111-11f1-8111-111111111111', 'not-a-uuid']) {
          const r = await get(probeUrl, `/organizations/${org}/probe/READ:PRODUCT`, key.apiKey);
          assert.equal(r.status, 403);
          bodies.add(await r.text());
        }
        assert.equal(bodies.size, 1);
        const body = JSON.parse([...bodies][0]!) as ErrorBody;
        assert.equal(body.errorType, 'FORBIDDEN');
        assert.ok(!body.developerMessage.includes(orgB));
      });

      it('403 names the missing scope', async () => {
        const r = await get(probeUrl, '/organizations/self/probe/READ:PURCHASE', await tokenFor(key.apiKey));
        assert.equal(r.status, 403);
        const body = (await r.json()) as ErrorBody;
        assert.equal(body.errorType, 'INSUFFICIENT_SCOPE');
        assert.equal(body.developerMessage, 'the credential lacks the scope READ:PURCHASE');
      });

      it('the Pusher API routes: self works, another organization gets 403 on every route', async () => {
        const mine = await get(h.url, '/organizations/self/subscriptions', key.apiKey);
        assert.equal(mine.status, 200);
        const sub = '6f1b7a5e-8f35-11eb-8dcd-0242ac130003';
        const calls: [string, string][] = [
          ['POST', `/organizations/${orgB}/subscriptions`],
          ['GET', `/organizations/${orgB}/subscriptions`],
          ['PUT', `/organizations/${orgB}/subscriptions/${sub}`],
          ['DELETE', `/organizations/${orgB}/subscriptions/${sub}`],
          ['DELETE', `/organizations/${orgB}/subscriptions/uuid/${sub}`],
        ];
        for (const [method, path] of calls) {
          const withBody = method === 'POST' || method === 'PUT';
          const r = await h.request(path, {
            method,
            headers: { authorization: `Bearer ${key.apiKey}`, ...(withBody ? { 'content-type': 'application/json' } : {}) },
            body: withBody ? JSON.stringify({ eventNames: [] }) : undefined,
          });
          assert.equal(r.status, 403, `${method} ${path}`);
          assert.equal(((await r.json()) as ErrorBody).errorType, 'FORBIDDEN');
        }
      });
    });

    describe('identity events, recorded in the transaction of the change', () => {
      let seq = 0;
      // livemode: a subscription has the mode of the credential that created it.
      async function insertSubscription(org: string, createdBy: string, eventNames: string[], livemode = true): Promise<number> {
        seq += 1;
        const now = clock.now();
        const r = await h.db.query<{ id: number }>(
          `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                                      status, signing_key, created_by, livemode, created_at, updated_at)
           values ($1, $2, 'WEBHOOK', $3, 'https://example.com/hook', 'ops@example.com', 'ACTIVE', $4, $5, $7, $6, $6)
           returning id`,
          [
            `0000${String(seq).padStart(4, '0')}-8f35-11eb-8dcd-0242ac130003`,
            org,
            eventNames,
            `signing-key-${seq}-${Math.random()}`,
            createdBy,
            now,
            livemode,
          ],
        );
        return r.rows[0]!.id;
      }

      /** The events about one credential (payload field = id), and their deliveries. */
      async function eventsAbout(eventName: string, org: string, field: string, id: string) {
        const events = await h.db.query<{ id: number; payload: Record<string, unknown>; livemode: boolean }>(
          `select id, payload, livemode from events
            where event_name = $1 and organization_uuid = $2 and payload ->> '${field}' = $3 order by id`,
          [eventName, org, id],
        );
        const deliveries = await h.db.query<{ subscription_id: number; state: string }>(
          'select subscription_id, state from deliveries where event_id = any ($1) order by subscription_id',
          [events.rows.map((e) => e.id)],
        );
        return { events: events.rows, deliveries: deliveries.rows };
      }

      it('deleting a key records PersonalAssertionDeleted for the subscriptions that key created', async () => {
        const k = await createKey(orgA, ['READ:PRODUCT'], { livemode: false });
        const otherKey = await createKey(orgA, ['READ:PRODUCT']);
        const mineAll = await insertSubscription(orgA, `api_key:${k.apiKeyId}`, [], false);
        const mineNamed = await insertSubscription(orgA, `api_key:${k.apiKeyId}`, ['PersonalAssertionDeleted', 'ProductCreated'], false);
        // Subscribed to the other disconnection only: it receives this one too (nopCommerce subscribes so).
        const mineAcr = await insertSubscription(orgA, `api_key:${k.apiKeyId}`, ['ApplicationConnectionRemoved'], false);
        await insertSubscription(orgA, `api_key:${k.apiKeyId}`, ['ProductCreated'], false); // not subscribed to it
        await insertSubscription(orgA, `api_key:${otherKey.apiKeyId}`, [], false); // another key's
        await insertSubscription(orgB, `api_key:${k.apiKeyId}`, []); // another organization's

        assert.equal((await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`)).status, 204);
        const { events, deliveries } = await eventsAbout('PersonalAssertionDeleted', orgA, 'apiKeyId', k.apiKeyId);
        assert.equal(events.length, 1);
        assert.deepEqual(events[0]!.payload, {
          type: 'PersonalAssertionDeleted',
          organizationUuid: orgA,
          userUuid: k.userUuid,
          apiKeyId: k.apiKeyId,
          deleted: clock.now().toISOString(),
        });
        assert.equal(events[0]!.livemode, false);
        assert.deepEqual(
          deliveries.map((d) => [d.subscription_id, d.state]),
          [
            [mineAll, 'pending'],
            [mineNamed, 'pending'],
          ],
        );
        assert.equal((await eventsAbout('PersonalAssertionDeleted', orgB, 'apiKeyId', k.apiKeyId)).events.length, 0);
        // The subscriber of ApplicationConnectionRemoved alone gets it under that name, same payload.
        const aliased = await eventsAbout('ApplicationConnectionRemoved', orgA, 'apiKeyId', k.apiKeyId);
        assert.deepEqual(aliased.events.map((e) => e.payload), [events[0]!.payload]);
        assert.deepEqual(aliased.deliveries.map((d) => [d.subscription_id, d.state]), [[mineAcr, 'pending']]);
      });

      it('removing an app connection records ApplicationConnectionRemoved for the organization subscriptions', async () => {
        const conn = (await (
          await h.admin(`/admin/organizations/${orgB}/app-connections`, {
            method: 'POST',
            body: JSON.stringify({ clientId: 'events-app', scopes: ['READ:PURCHASE'] }),
          })
        ).json()) as { connectionId: string; userUuid: string };
        const s1 = await insertSubscription(orgB, 'api_key:00000000-0000-1000-8000-000000000000', []);
        const s2 = await insertSubscription(orgB, `app_connection:${conn.connectionId}`, ['ApplicationConnectionRemoved']);
        await insertSubscription(orgB, 'api_key:00000000-0000-1000-8000-000000000000', ['PurchaseCreated']);
        await insertSubscription(orgA, 'api_key:00000000-0000-1000-8000-000000000000', []);

        const del = await adminDelete(`/admin/organizations/${orgB}/app-connections/${conn.connectionId}`);
        assert.equal(del.status, 204);
        const { events, deliveries } = await eventsAbout('ApplicationConnectionRemoved', orgB, 'connectionId', conn.connectionId);
        assert.equal(events.length, 1);
        assert.deepEqual(events[0]!.payload, {
          type: 'ApplicationConnectionRemoved',
          organizationUuid: orgB,
          connectionId: conn.connectionId,
          clientId: 'events-app',
          userUuid: conn.userUuid,
          removed: clock.now().toISOString(),
        });
        assert.equal(events[0]!.livemode, true);
        // Every live subscription of B to it, whoever created it (including one made in the test above).
        const expected = await h.db.query<{ id: number }>(
          `select id from subscriptions where organization_uuid = $1 and deleted_at is null
              and (cardinality(event_names) = 0 or 'ApplicationConnectionRemoved' = any (event_names)) order by id`,
          [orgB],
        );
        assert.deepEqual(
          deliveries.map((d) => d.subscription_id),
          expected.rows.map((r) => r.id),
        );
        assert.ok(expected.rows.some((r) => r.id === s1) && expected.rows.some((r) => r.id === s2));
        assert.ok(deliveries.every((d) => d.state === 'pending'));
        assert.equal((await eventsAbout('ApplicationConnectionRemoved', orgA, 'connectionId', conn.connectionId)).events.length, 0);
        assert.equal((await h.admin(`/admin/organizations/${orgB}/app-connections/${conn.connectionId}`)).status, 404);
      });

      it('when the event cannot be recorded, the key is not revoked (one transaction)', async () => {
        const k = await createKey(orgA, ['READ:PRODUCT']);
        await h.db.exec(`
          create function herald_test_refuse_events() returns trigger language plpgsql as
            $$ begin raise exception 'events refused by the test'; end $$;
          create trigger herald_test_refuse_events before insert on events
            for each row execute function herald_test_refuse_events();`);
        try {
          const r = await adminDelete(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`);
          assert.equal(r.status, 500);
          const body = await r.text();
          assert.ok(!body.includes('refused'), 'a 500 says nothing of the internals');
        } finally {
          await h.db.exec(`drop trigger herald_test_refuse_events on events; drop function herald_test_refuse_events();`);
        }
        assert.equal((await self(k.apiKey)).status, 200, 'the revoke was rolled back with the event');
        assert.equal((await h.admin(`/admin/organizations/${orgA}/api-keys/${k.apiKeyId}`)).status, 200);
      });
    });
  });
}
