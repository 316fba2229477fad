import type { DomainContext } from '../context.js';
import type { Principal } from '../principal.js';
import { unauthorized } from '../../errors.js';
import { findApiKeyBySecretHash } from '../../store/api-keys.js';
import { verifyAccessToken } from './access-tokens.js';
import { apiKeyRef } from './credential-ref.js';
import { apiKeyExpiry, isApiKeyJwt } from './api-key-jwt.js';
import { hashSecret, looksLikeLegacyApiKey } from './secrets.js';
import { storedScopes } from './scope-list.js';

/** Whether a bearer token is an API key: a JWT with Herald's API-key kid, or a legacy `hk_` key. */
export const isApiKey = (token: string): boolean => looksLikeLegacyApiKey(token) || isApiKeyJwt(token);

/**
 * Resolves a bearer credential (an access token JWT or an API key) to its principal,
 * or throws 401 saying why.
 *
 * An API key is looked up on every request (by the SHA-256 of the secret), so revoking
 * one stops it at once. An access token is verified by signature and expiry; whether the
 * key or connection it came from still exists is re-checked at most every
 * HERALD_CREDENTIAL_CACHE_SECONDS (see CredentialCache).
 */
export async function authenticateBearer(ctx: DomainContext, token: string): Promise<Principal> {
  if (isApiKey(token)) return authenticateApiKey(ctx, token);
  return verifyAccessToken(ctx, token);
}

/**
 * The principal of an API key used directly (also the assertion of the jwt-bearer
 * grant). The stored hash decides: a JWT that decodes but was never issued, or was
 * altered, is unknown.
 */
export async function authenticateApiKey(ctx: DomainContext, apiKey: string): Promise<Principal> {
  const key = await findApiKeyBySecretHash(ctx.db, hashSecret(apiKey));
  if (!key) throw unauthorized('UNAUTHORIZED', 'unknown API key');
  if (key.revoked_at) throw unauthorized('UNAUTHORIZED', 'the API key has been revoked');
  const exp = apiKeyExpiry(apiKey);
  if (exp !== undefined && exp * 1000 <= ctx.clock.now().getTime()) throw unauthorized('UNAUTHORIZED', 'the API key has expired');
  return {
    organizationUuid: key.organization_uuid,
    userUuid: key.user_uuid,
    userObjectId: key.user_object_id,
    scopes: storedScopes(key.scopes),
    livemode: key.livemode,
    credentialRef: apiKeyRef(key.id),
    clientId: key.client_id,
  };
}
