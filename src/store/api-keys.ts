import type { Queryable } from './db.js';

export interface ApiKeyRow {
  id: string;
  organization_uuid: string;
  user_uuid: string;
  /** The JWT key's client_id claim; null for a key issued before keys were JWTs. */
  client_id: string | null;
  name: string;
  secret_hash: string;
  prefix: string;
  scopes: string[];
  livemode: boolean;
  created_at: Date;
  revoked_at: Date | null;
}

/** An API key with the ObjectId of the user it acts as (what a Principal needs). */
export interface ApiKeyWithUserRow extends ApiKeyRow {
  user_object_id: string;
}

export async function insertApiKey(q: Queryable, k: ApiKeyRow): Promise<void> {
  await q.query(
    `insert into api_keys (id, organization_uuid, user_uuid, client_id, name, secret_hash, prefix, scopes, livemode, created_at, revoked_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [k.id, k.organization_uuid, k.user_uuid, k.client_id, k.name, k.secret_hash, k.prefix, k.scopes, k.livemode, k.created_at, k.revoked_at],
  );
}

/**
 * The key whose secret hashes to secretHash, revoked or not (a revoked key is answered
 * "revoked", not "unknown"). Runs on every request made with an API key: one unique
 * index lookup plus the user's primary key.
 */
export async function findApiKeyBySecretHash(q: Queryable, secretHash: string): Promise<ApiKeyWithUserRow | undefined> {
  const r = await q.query<ApiKeyWithUserRow>(
    `select k.*, u.object_id as user_object_id
       from api_keys k join users u on u.uuid = k.user_uuid
      where k.secret_hash = $1`,
    [secretHash],
  );
  return r.rows[0];
}

/** A live (not revoked) key of the organization. */
export async function findLiveApiKey(q: Queryable, organizationUuid: string, id: string): Promise<ApiKeyRow | undefined> {
  const r = await q.query<ApiKeyRow>(
    'select * from api_keys where organization_uuid = $1 and id = $2 and revoked_at is null',
    [organizationUuid, id],
  );
  return r.rows[0];
}

export async function listLiveApiKeys(q: Queryable, organizationUuid: string): Promise<ApiKeyRow[]> {
  const r = await q.query<ApiKeyRow>(
    'select * from api_keys where organization_uuid = $1 and revoked_at is null order by created_at, id',
    [organizationUuid],
  );
  return r.rows;
}

/** Revokes a live key; returns it, or undefined when there was none to revoke (so a race revokes once). */
export async function revokeApiKey(q: Queryable, organizationUuid: string, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  const r = await q.query<ApiKeyRow>(
    `update api_keys set revoked_at = $3
      where organization_uuid = $1 and id = $2 and revoked_at is null
      returning *`,
    [organizationUuid, id, at],
  );
  return r.rows[0];
}

/** Whether the key exists and is not revoked (the access-token re-check). */
export async function isApiKeyLive(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query('select 1 from api_keys where id = $1 and revoked_at is null', [id]);
  return r.rows.length > 0;
}
