import type { Queryable } from './db.js';

export interface SigningKeyRow {
  kid: string;
  private_jwk: Record<string, unknown>;
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
    [k.kid, JSON.stringify(k.private_jwk), JSON.stringify(k.public_jwk), k.created_at],
  );
}

export async function findSigningKey(q: Queryable, kid: string): Promise<SigningKeyRow | undefined> {
  const r = await q.query<SigningKeyRow>('select * from token_signing_keys where kid = $1', [kid]);
  return r.rows[0];
}
