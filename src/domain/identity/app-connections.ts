import { notFound } from '../../errors.js';
import {
  findLiveAppConnection,
  insertAppConnection,
  insertRefreshToken,
  listLiveAppConnections,
  markAppConnectionRemoved,
  revokeRefreshTokens,
  type AppConnectionRow,
} from '../../store/app-connections.js';
import type { Queryable } from '../../store/db.js';
import { insertUser } from '../../store/identity-users.js';
import type { DomainContext } from '../context.js';
import { isUuid, newObjectId, newUuidV1 } from '../ids.js';
import { getOrganization } from '../organizations.js';
import { recordEvent } from '../outbox.js';
import type { Scope } from '../scopes.js';
import { appConnectionRef } from './credential-ref.js';
import { identityStateOf } from './identity-state.js';
import { parseScopes, storedScopes } from './scope-list.js';
import { hashSecret, newRefreshTokenSecret } from './secrets.js';

/** How long a refresh token may wait to be used. Each use rotates it and starts a new period. */
export const REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 3600;

/** An OAuth client authorized for an organization (the outcome of the authorization-code flow). */
export interface AppConnection {
  connectionId: string;
  organizationUuid: string;
  /** The user the app acts as in this organization. */
  userUuid: string;
  clientId: string;
  scopes: Scope[];
  livemode: boolean;
  created: string;
}

export interface CreatedAppConnection extends AppConnection {
  /** The first refresh token, shown this once. */
  refreshToken: string;
}

/**
 * The payload of ApplicationConnectionRemoved (Herald's choice: the spec shows none).
 * `type` names the event, as the original's does (nopCommerce acts on payload.type).
 */
export interface ApplicationConnectionRemovedPayload {
  type: 'ApplicationConnectionRemoved';
  organizationUuid: string;
  connectionId: string;
  clientId: string;
  userUuid: string;
  removed: string;
}

const toAppConnection = (r: AppConnectionRow): AppConnection => ({
  connectionId: r.id,
  organizationUuid: r.organization_uuid,
  userUuid: r.user_uuid,
  clientId: r.client_id,
  scopes: storedScopes(r.scopes),
  livemode: r.livemode,
  created: r.created_at.toISOString(),
});

const connectionNotFound = (organizationUuid: string, connectionId: string) =>
  notFound('APP_CONNECTION_NOT_FOUND', `organization ${organizationUuid} has no app connection ${connectionId}`);

/** Issues a new refresh token for a connection, in the caller's transaction; returns the secret. */
export async function issueRefreshToken(q: Queryable, connectionId: string, now: Date): Promise<string> {
  const secret = newRefreshTokenSecret();
  await insertRefreshToken(q, {
    token_hash: hashSecret(secret),
    connection_id: connectionId,
    created_at: now,
    expires_at: new Date(now.getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    used_at: null,
    revoked_at: null,
  });
  return secret;
}

/**
 * Connects an OAuth client to an organization and returns its first refresh token.
 * Herald has no consent screen: this admin operation stands in for the end of the
 * authorization-code flow (the user approved; the app got a refresh token).
 */
export async function createAppConnection(
  ctx: DomainContext,
  organizationUuid: string,
  input: { clientId: string; scopes: readonly string[]; livemode?: boolean },
): Promise<CreatedAppConnection> {
  const scopes = parseScopes(input.scopes);
  const now = ctx.clock.now();
  const row: AppConnectionRow = {
    id: newUuidV1(now.getTime()),
    organization_uuid: organizationUuid,
    user_uuid: newUuidV1(now.getTime()),
    client_id: input.clientId,
    scopes,
    livemode: input.livemode ?? true,
    created_at: now,
    removed_at: null,
  };
  const refreshToken = await ctx.db.transaction(async (tx) => {
    await getOrganization(tx, organizationUuid);
    await insertUser(tx, {
      uuid: row.user_uuid,
      organization_uuid: organizationUuid,
      object_id: newObjectId(now),
      kind: 'APP',
      display_name: input.clientId,
      created_at: now,
    });
    await insertAppConnection(tx, row);
    return issueRefreshToken(tx, row.id, now);
  });
  return { ...toAppConnection(row), refreshToken };
}

export async function listAppConnections(ctx: DomainContext, organizationUuid: string): Promise<AppConnection[]> {
  await getOrganization(ctx.db, organizationUuid);
  return (await listLiveAppConnections(ctx.db, organizationUuid)).map(toAppConnection);
}

export async function getAppConnection(ctx: DomainContext, organizationUuid: string, connectionId: string): Promise<AppConnection> {
  await getOrganization(ctx.db, organizationUuid);
  const row = isUuid(connectionId) ? await findLiveAppConnection(ctx.db, organizationUuid, connectionId) : undefined;
  if (!row) throw connectionNotFound(organizationUuid, connectionId);
  return toAppConnection(row);
}

/**
 * Removes a connection: marks it removed, revokes its refresh tokens, and records
 * ApplicationConnectionRemoved for the organization's subscriptions, all in one
 * transaction. Access tokens issued to it stop within HERALD_CREDENTIAL_CACHE_SECONDS.
 */
export async function removeAppConnection(ctx: DomainContext, organizationUuid: string, connectionId: string): Promise<void> {
  await getOrganization(ctx.db, organizationUuid);
  if (!isUuid(connectionId)) throw connectionNotFound(organizationUuid, connectionId);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const row = await markAppConnectionRemoved(tx, organizationUuid, connectionId, now);
    if (!row) throw connectionNotFound(organizationUuid, connectionId);
    await revokeRefreshTokens(tx, row.id, now);
    const payload: ApplicationConnectionRemovedPayload = {
      type: 'ApplicationConnectionRemoved',
      organizationUuid,
      connectionId: row.id,
      clientId: row.client_id,
      userUuid: row.user_uuid,
      removed: now.toISOString(),
    };
    await recordEvent(tx, ctx.clock, {
      organizationUuid,
      eventName: 'ApplicationConnectionRemoved',
      payload,
      livemode: row.livemode,
    });
  });
  identityStateOf(ctx).credentials.forget(appConnectionRef(connectionId.toLowerCase()));
}
