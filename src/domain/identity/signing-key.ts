import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { findSigningKey, insertSigningKeyIfAbsent } from '../../store/signing-keys.js';
import type { DomainContext } from '../context.js';

/** One of Herald's JWT signing keys: its algorithm and fixed kid. */
export interface SigningKeySpec {
  alg: 'ES256' | 'RS256';
  /**
   * The kid of the one key in use. Fixed, so that processes racing to create the first
   * key collide on the primary key and all end up with the winner's. A rotation would
   * add the next kid and verify both for one token lifetime.
   */
  kid: string;
}

/** Access tokens: short-lived, verified on every request. */
export const ACCESS_TOKEN_KEY: SigningKeySpec = { alg: 'ES256', kid: 'herald-es256-1' };

/**
 * API keys: JWTs of the original's shape, whose header its clients expect to say RS256
 * with a kid. Herald trusts an API key by its stored hash, not by this signature; the
 * signature makes a key verifiable with GET /.well-known/jwks.json-style tooling and
 * unforgeable as a JWT.
 */
export const API_KEY_KEY: SigningKeySpec = { alg: 'RS256', kid: 'herald-apikey-rs256-1' };

export interface SigningKey {
  kid: string;
  alg: SigningKeySpec['alg'];
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * Reads a signing key from the database, creating it on first use. Every Herald process
 * on one database signs with, and accepts tokens of, the same key, and it survives
 * restarts.
 */
export async function loadSigningKey(ctx: Pick<DomainContext, 'db' | 'clock' | 'secrets'>, spec: SigningKeySpec = ACCESS_TOKEN_KEY): Promise<SigningKey> {
  let row = await findSigningKey(ctx.db, spec.kid);
  if (!row) {
    const pair = await generateKeyPair(spec.alg, { extractable: true });
    await insertSigningKeyIfAbsent(ctx.db, {
      kid: spec.kid,
      private_jwk: ctx.secrets.seal(JSON.stringify(await exportJWK(pair.privateKey)), 'token-signing-key'),
      public_jwk: (await exportJWK(pair.publicKey)) as Record<string, unknown>,
      created_at: ctx.clock.now(),
    });
    row = await findSigningKey(ctx.db, spec.kid);
    if (!row) throw new Error('signing key missing after insert');
  }
  return {
    kid: row.kid,
    alg: spec.alg,
    privateKey: (await importJWK(JSON.parse(ctx.secrets.open(row.private_jwk, 'token-signing-key')) as JWK, spec.alg)) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk as JWK, spec.alg)) as CryptoKey,
  };
}
