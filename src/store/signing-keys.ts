import type { Queryable } from './db.js';

export interface SigningKeyRow {
  kid: string;
  /** The private JWK, sealed (SecretBox, purpose token-signing-key); JSON text before migration 005's reseal. */
  private_jwk: string;
  public_jwk: Record<string, unknown>;
  created_at: Date;
}

/**
 * Stores a signing key unless one with this kid exists. Several processes may race to
 * create the first key: each proposes its own, one insert wins, and every process then
 * reads the winner (findSigningKey), so all sign and verify with the same key.
 */
export async function insertSigningKeyIfAbsent(q: Queryable, k: SigningKeyRow): Promise<void> {
  await q.query(
    `insert into token_signing_keys (kid, private_jwk, public_jwk, created_at)
     values ($1, $2, $3, $4)
     on conflict (kid) do nothing`,
    [k.kid, k.private_jwk, JSON.stringify(k.public_jwk), k.created_at],
  );
}

export async function findSigningKey(q: Queryable, kid: string): Promise<SigningKeyRow | undefined> {
  const r = await q.query<SigningKeyRow>('select * from token_signing_keys where kid = $1', [kid]);
  return r.rows[0];
}

export async function listSigningKeys(q: Queryable): Promise<Pick<SigningKeyRow, 'kid' | 'private_jwk'>[]> {
  const r = await q.query<Pick<SigningKeyRow, 'kid' | 'private_jwk'>>('select kid, private_jwk from token_signing_keys order by kid');
  return r.rows;
}

/** Replaces a stored private key if it is still the value read (a concurrent reseal wins once). */
export async function replaceSigningKeySecret(q: Queryable, kid: string, was: string, now: string): Promise<boolean> {
  const r = await q.query('update token_signing_keys set private_jwk = $3 where kid = $1 and private_jwk = $2', [kid, was, now]);
  return r.rowCount > 0;
}
