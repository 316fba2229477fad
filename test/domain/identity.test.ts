// The identity domain below HTTP: the signing key (created once, race-safe, persistent),
// the credential cache bound, scope validation and secret formats.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/domain/sealed-secrets.js';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { DomainContext } from '../../src/domain/context.js';
import { issueAccessToken, verifyAccessToken } from '../../src/domain/identity/access-tokens.js';
import { CredentialCache } from '../../src/domain/identity/credential-cache.js';
import { parseScopes } from '../../src/domain/identity/scope-list.js';
import { hashSecret, looksLikeLegacyApiKey, newRefreshTokenSecret } from '../../src/domain/identity/secrets.js';
import { ACCESS_TOKEN_KEY, loadSigningKey } from '../../src/domain/identity/signing-key.js';
import type { HeraldError } from '../../src/errors.js';
import { makeLogger } from '../../src/logger.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases, type TestDb } from '../helpers/db.js';

const log = makeLogger({ logLevel: 'silent', logFormat: 'json' });
const secrets = new SecretBox(randomBytes(32));

for (const backend of testDatabases()) {
  describe(`token signing key: ${backend.name}`, () => {
    let t: TestDb;
    before(async () => {
      t = await backend.open();
    });
    after(() => t.dispose());

    it('is created once when many callers race for it, and all get the same key', async () => {
      const clock = new ManualClock();
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadSigningKey({ db: t.db, clock, secrets })));
      const rows = await t.db.query<{ kid: string; public_jwk: { kty: string; crv: string } }>('select * from token_signing_keys');
      assert.equal(rows.rows.length, 1);
      assert.equal(rows.rows[0]!.kid, ACCESS_TOKEN_KEY.kid);
      assert.equal(rows.rows[0]!.public_jwk.crv, 'P-256');
      assert.ok(keys.every((k) => k.kid === ACCESS_TOKEN_KEY.kid));
    });

    it('outlives the process: a token from one context verifies in a fresh one on the same database', async () => {
      const clock = new ManualClock();
      const config = loadConfig({}, { logLevel: 'silent' });
      const ctxA: DomainContext = { db: t.db, clock, config, log, secrets };
      const ctxB: DomainContext = { db: t.db, clock, config, log, secrets };
      const orgUuid = '2a0f3c50-e853-11f1-8000-000000000001';
      await t.db.query(
        `insert into organizations (uuid, object_id, name, created_at, updated_at) values ($1, '0123456789abcdef01234567', 'x', $2, $2)`,
        [orgUuid, clock.now()],
      );
      await t.db.query(
        `insert into users (uuid, organization_uuid, object_id, kind, display_name, created_at)
         values ('2a0f3c50-e853-11f1-8000-000000000002', $1, '0123456789abcdef01234568', 'API_KEY', 'k', $2)`,
        [orgUuid, clock.now()],
      );
      await t.db.query(
        `insert into api_keys (id, organization_uuid, user_uuid, name, secret_hash, prefix, scopes, livemode, created_at)
         values ('2a0f3c50-e853-11f1-8000-000000000003', $1, '2a0f3c50-e853-11f1-8000-000000000002', 'k', 'h', 'p', $2, true, $3)`,
        [orgUuid, ['READ:PRODUCT'], clock.now()],
      );
      const principal = {
        organizationUuid: orgUuid,
        userUuid: '2a0f3c50-e853-11f1-8000-000000000002',
        userObjectId: '0123456789abcdef01234568',
        scopes: ['READ:PRODUCT' as const],
        livemode: true,
        credentialRef: 'api_key:2a0f3c50-e853-11f1-8000-000000000003',
        clientId: '2a0f3c50-e853-11f1-8000-000000000009',
      };
      const { accessToken, expiresIn } = await issueAccessToken(ctxA, principal);
      assert.equal(expiresIn, 7200);
      assert.deepEqual(await verifyAccessToken(ctxB, accessToken), principal);
      clock.advance(7200 * 1000);
      await assert.rejects(verifyAccessToken(ctxB, accessToken), (e: HeraldError) => /expired/.test(e.message));
    });
  });
}

describe('credential cache', () => {
  it('trusts "live" for the bound only, by the clock', () => {
    const clock = new ManualClock();
    const cache = new CredentialCache(clock, 5000);
    assert.equal(cache.get('api_key:a'), undefined);
    cache.set('api_key:a', true);
    clock.advance(4999);
    assert.equal(cache.get('api_key:a'), true);
    clock.advance(1);
    assert.equal(cache.get('api_key:a'), undefined, 'expired: must be checked again');
  });

  it('keeps "gone" (revocation is final) and forgets at once what this process revoked', () => {
    const clock = new ManualClock();
    const cache = new CredentialCache(clock, 5000);
    cache.set('api_key:a', false);
    clock.advance(3600_000);
    assert.equal(cache.get('api_key:a'), false);
    cache.set('api_key:b', true);
    cache.forget('api_key:b');
    assert.equal(cache.get('api_key:b'), false);
  });

  it('with a bound of 0 checks every time; stays within its size', () => {
    const clock = new ManualClock();
    const none = new CredentialCache(clock, 0);
    none.set('x', true);
    assert.equal(none.get('x'), undefined);
    const small = new CredentialCache(clock, 5000, 3);
    for (const k of ['a', 'b', 'c', 'd']) small.set(k, true);
    assert.equal(small.get('a'), undefined, 'the oldest was evicted');
    assert.equal(small.get('d'), true);
  });
});

describe('scopes and secrets', () => {
  it('parseScopes accepts exactly the known scopes, de-duplicated', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...ALL_SCOPES), fc.string())), (scopes) => {
        const unknown = scopes.filter((s) => !(ALL_SCOPES as string[]).includes(s));
        if (unknown.length === 0) {
          assert.deepEqual(parseScopes(scopes), [...new Set(scopes)]);
        } else {
          assert.throws(
            () => parseScopes(scopes),
            (e: HeraldError) => e.kind === 'bad_request' && e.violations.length === unknown.length,
          );
        }
      }),
    );
  });

  it('refresh tokens are 256-bit, prefixed, distinct, and stored as SHA-256 hex', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newRefreshTokenSecret()));
    assert.equal(tokens.size, 200);
    for (const t of tokens) {
      assert.match(t, /^hrt_[A-Za-z0-9_-]{43}$/);
      assert.equal(hashSecret(t), createHash('sha256').update(t).digest('hex'));
      assert.ok(!looksLikeLegacyApiKey(t));
    }
  });
});
