import { notFound } from '../../errors.js';
import {
  findLiveApiKey,
  insertApiKey,
  listLiveApiKeys,
  revokeApiKey,
  type ApiKeyRow,
} from '../../store/api-keys.js';
import { insertUser } from '../../store/identity-users.js';
import type { DomainContext } from '../context.js';
import { isUuid, newObjectId, newUuidV1 } from '../ids.js';
import { getOrganization } from '../organizations.js';
import { recordEvent } from '../outbox.js';
import type { Scope } from '../scopes.js';
import { apiKeyRef } from './credential-ref.js';
import { identityStateOf } from './identity-state.js';
import { parseScopes, storedScopes } from './scope-list.js';
import { signApiKey } from './api-key-jwt.js';
import { hashSecret, shownPrefixOf } from './secrets.js';

/** An API key as listed: never the secret, only a few of its characters (prefix). */
export interface ApiKey {
  apiKeyId: string;
  organizationUuid: string;
  /** The user the key acts as (GET /users/self). */
  userUuid: string;
  /** The key's `client_id` claim (null for a key issued before keys were JWTs). */
  clientId: string | null;
  name: string;
  scopes: Scope[];
  livemode: boolean;
  prefix: string;
  created: string;
}

/** A key just created: the one time its secret is shown. */
export interface CreatedApiKey extends ApiKey {
  apiKey: string;
}

/**
 * The payload of PersonalAssertionDeleted (Herald's choice: the spec shows none).
 * `type` names the event, as the original's does (nopCommerce acts on payload.type).
 */
export interface PersonalAssertionDeletedPayload {
  type: 'PersonalAssertionDeleted';
  organizationUuid: string;
  userUuid: string;
  apiKeyId: string;
  deleted: string;
}

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  apiKeyId: r.id,
  organizationUuid: r.organization_uuid,
  userUuid: r.user_uuid,
  clientId: r.client_id,
  name: r.name,
  scopes: storedScopes(r.scopes),
  livemode: r.livemode,
  prefix: r.prefix,
  created: r.created_at.toISOString(),
});

const keyNotFound = (organizationUuid: string, apiKeyId: string) =>
  notFound('API_KEY_NOT_FOUND', `organization ${organizationUuid} has no API key ${apiKeyId}`);

/**
 * Creates an API key, and the user it acts as, for an organization (404 when there is
 * none): a JWT of the original's shape (api-key-jwt.ts). Only its SHA-256 is stored.
 */
export async function createApiKey(
  ctx: DomainContext,
  organizationUuid: string,
  input: { name?: string; scopes: readonly string[]; livemode?: boolean },
): Promise<CreatedApiKey> {
  const scopes = parseScopes(input.scopes);
  const livemode = input.livemode ?? true;
  const name = input.name ?? 'API key';
  const now = ctx.clock.now();
  const userUuid = newUuidV1(now.getTime());
  const clientId = newUuidV1(now.getTime());
  const secret = await signApiKey(await identityStateOf(ctx).apiKeySigningKey(), {
    userUuid,
    organizationUuid,
    scopes,
    clientId,
    issuedAt: now,
  });
  const row: ApiKeyRow = {
    id: newUuidV1(now.getTime()),
    organization_uuid: organizationUuid,
    user_uuid: userUuid,
    client_id: clientId,
    name,
    secret_hash: hashSecret(secret),
    prefix: shownPrefixOf(secret),
    scopes,
    livemode,
    created_at: now,
    revoked_at: null,
  };
  await ctx.db.transaction(async (tx) => {
    await getOrganization(tx, organizationUuid);
    await insertUser(tx, {
      uuid: row.user_uuid,
      organization_uuid: organizationUuid,
      object_id: newObjectId(now),
      kind: 'API_KEY',
      display_name: name,
      created_at: now,
    });
    await insertApiKey(tx, row);
  });
  return { ...toApiKey(row), apiKey: secret };
}

export async function listApiKeys(ctx: DomainContext, organizationUuid: string): Promise<ApiKey[]> {
  await getOrganization(ctx.db, organizationUuid);
  return (await listLiveApiKeys(ctx.db, organizationUuid)).map(toApiKey);
}

/** A live key of the organization; 404 for another organization's key, a revoked one, or none. */
export async function getApiKey(ctx: DomainContext, organizationUuid: string, apiKeyId: string): Promise<ApiKey> {
  await getOrganization(ctx.db, organizationUuid);
  const row = isUuid(apiKeyId) ? await findLiveApiKey(ctx.db, organizationUuid, apiKeyId) : undefined;
  if (!row) throw keyNotFound(organizationUuid, apiKeyId);
  return toApiKey(row);
}

/**
 * Revokes a key, and in the same transaction records PersonalAssertionDeleted for the
 * subscriptions that key created (directly or through access tokens minted from it)
 * that listen for it or for ApplicationConnectionRemoved (the catalog's alsoFor).
 * The key stops working at once; its access tokens within HERALD_CREDENTIAL_CACHE_SECONDS
 * in other processes, at once in this one.
 */
export async function deleteApiKey(ctx: DomainContext, organizationUuid: string, apiKeyId: string): Promise<void> {
  await getOrganization(ctx.db, organizationUuid);
  if (!isUuid(apiKeyId)) throw keyNotFound(organizationUuid, apiKeyId);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const row = await revokeApiKey(tx, organizationUuid, apiKeyId, now);
    if (!row) throw keyNotFound(organizationUuid, apiKeyId);
    const payload: PersonalAssertionDeletedPayload = {
      type: 'PersonalAssertionDeleted',
      organizationUuid,
      userUuid: row.user_uuid,
      apiKeyId: row.id,
      deleted: now.toISOString(),
    };
    await recordEvent(tx, ctx.clock, {
      organizationUuid,
      eventName: 'PersonalAssertionDeleted',
      payload,
      livemode: row.livemode,
      onlyCreatedBy: apiKeyRef(row.id),
    });
  });
  // The row's id, not the path's spelling: the cache is keyed by the canonical (lower-case) uuid.
  identityStateOf(ctx).credentials.forget(apiKeyRef(apiKeyId.toLowerCase()));
}
