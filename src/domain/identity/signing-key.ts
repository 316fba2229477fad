import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { findSigningKey, insertSigningKeyIfAbsent } from '../../store/signing-keys.js';
import type { DomainContext } from '../context.js';

export const ACCESS_TOKEN_ALG = 'ES256';

/**
 * The kid of the one key in use. Fixed, so that processes racing to create the first key
 * collide on the primary key and all end up with the winner's. A rotation would add
 * the next kid and verify both for one token lifetime.
 */
export const CURRENT_KID = 'herald-es256-1';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * Reads the access-token signing key from the database, creating it on first use. Every
 * Herald process on one database signs with, and accepts tokens of, the same key, and it
 * survives restarts.
 */
export async function loadSigningKey(ctx: Pick<DomainContext, 'db' | 'clock'>): Promise<SigningKey> {
  let row = await findSigningKey(ctx.db, CURRENT_KID);
  if (!row) {
    const pair = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
    await insertSigningKeyIfAbsent(ctx.db, {
      kid: CURRENT_KID,
      private_jwk: (await exportJWK(pair.privateKey)) as Record<string, unknown>,
      public_jwk: (await exportJWK(pair.publicKey)) as Record<string, unknown>,
      created_at: ctx.clock.now(),
    });
    row = await findSigningKey(ctx.db, CURRENT_KID);
    if (!row) throw new Error('token signing key missing after insert');
  }
  return {
    kid: row.kid,
    privateKey: (await importJWK(row.private_jwk as JWK, ACCESS_TOKEN_ALG)) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk as JWK, ACCESS_TOKEN_ALG)) as CryptoKey,
  };
}
