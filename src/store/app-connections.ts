import type { Queryable } from './db.js';

export interface AppConnectionRow {
  id: string;
  organization_uuid: string;
  user_uuid: string;
  client_id: string;
  scopes: string[];
  livemode: boolean;
  created_at: Date;
  removed_at: Date | null;
}

export interface RefreshTokenRow {
  token_hash: string;
  connection_id: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

/** A refresh token with what a grant needs of its connection and the connection's user. */
export interface RefreshTokenGrantRow extends RefreshTokenRow {
  organization_uuid: string;
  user_uuid: string;
  user_object_id: string;
  client_id: string;
  scopes: string[];
  livemode: boolean;
  connection_removed_at: Date | null;
}

export async function insertAppConnection(q: Queryable, c: AppConnectionRow): Promise<void> {
  await q.query(
    `insert into app_connections (id, organization_uuid, user_uuid, client_id, scopes, livemode, created_at, removed_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.id, c.organization_uuid, c.user_uuid, c.client_id, c.scopes, c.livemode, c.created_at, c.removed_at],
  );
}

export async function listLiveAppConnections(q: Queryable, organizationUuid: string): Promise<AppConnectionRow[]> {
  const r = await q.query<AppConnectionRow>(
    'select * from app_connections where organization_uuid = $1 and removed_at is null order by created_at, id',
    [organizationUuid],
  );
  return r.rows;
}

export async function findLiveAppConnection(
  q: Queryable,
  organizationUuid: string,
  id: string,
): Promise<AppConnectionRow | undefined> {
  const r = await q.query<AppConnectionRow>(
    'select * from app_connections where organization_uuid = $1 and id = $2 and removed_at is null',
    [organizationUuid, id],
  );
  return r.rows[0];
}

/** Marks a live connection removed; undefined when there was none (so a race removes once). */
export async function markAppConnectionRemoved(
  q: Queryable,
  organizationUuid: string,
  id: string,
  at: Date,
): Promise<AppConnectionRow | undefined> {
  const r = await q.query<AppConnectionRow>(
    `update app_connections set removed_at = $3
      where organization_uuid = $1 and id = $2 and removed_at is null
      returning *`,
    [organizationUuid, id, at],
  );
  return r.rows[0];
}

/** Whether the connection exists and is not removed (the access-token re-check). */
export async function isAppConnectionLive(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query('select 1 from app_connections where id = $1 and removed_at is null', [id]);
  return r.rows.length > 0;
}

/** Whether any connection, live or removed, was ever made for this OAuth client. */
export async function isKnownClientId(q: Queryable, clientId: string): Promise<boolean> {
  const r = await q.query('select 1 from app_connections where client_id = $1 limit 1', [clientId]);
  return r.rows.length > 0;
}

export async function insertRefreshToken(q: Queryable, t: RefreshTokenRow): Promise<void> {
  await q.query(
    `insert into refresh_tokens (token_hash, connection_id, created_at, expires_at, used_at, revoked_at)
     values ($1, $2, $3, $4, $5, $6)`,
    [t.token_hash, t.connection_id, t.created_at, t.expires_at, t.used_at, t.revoked_at],
  );
}

export async function findRefreshToken(q: Queryable, tokenHash: string): Promise<RefreshTokenGrantRow | undefined> {
  const r = await q.query<RefreshTokenGrantRow>(
    `select t.*, c.organization_uuid, c.user_uuid, u.object_id as user_object_id, c.client_id, c.scopes, c.livemode,
            c.removed_at as connection_removed_at
       from refresh_tokens t
       join app_connections c on c.id = t.connection_id
       join users u on u.uuid = c.user_uuid
      where t.token_hash = $1`,
    [tokenHash],
  );
  return r.rows[0];
}

/**
 * Spends a refresh token: succeeds for exactly one caller, even when two race with the
 * same token (the row is updated only while used_at and revoked_at are null).
 */
export async function useRefreshToken(q: Queryable, tokenHash: string, at: Date): Promise<boolean> {
  const r = await q.query(
    `update refresh_tokens set used_at = $2
      where token_hash = $1 and used_at is null and revoked_at is null and expires_at > $2`,
    [tokenHash, at],
  );
  return r.rowCount === 1;
}

/** Revokes every unspent refresh token of a connection (when it is removed). */
export async function revokeRefreshTokens(q: Queryable, connectionId: string, at: Date): Promise<number> {
  const r = await q.query(
    `update refresh_tokens set revoked_at = $2
      where connection_id = $1 and revoked_at is null and used_at is null`,
    [connectionId, at],
  );
  return r.rowCount;
}
