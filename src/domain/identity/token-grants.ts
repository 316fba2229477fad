import { HeraldError } from '../../errors.js';
import { findRefreshToken, isKnownClientId, useRefreshToken } from '../../store/app-connections.js';
import type { DomainContext } from '../context.js';
import type { Principal } from '../principal.js';
import { issueAccessToken } from './access-tokens.js';
import { issueRefreshToken } from './app-connections.js';
import { authenticateApiKey } from './authenticate.js';
import { appConnectionRef } from './credential-ref.js';
import { identityStateOf } from './identity-state.js';
import { OAuthError } from './oauth-error.js';
import { storedScopes } from './scope-list.js';
import { hashSecret } from './secrets.js';

/** The RFC 6749 token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
}

/**
 * grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer: the assertion is an API key,
 * exchanged for an access token with the key's organization, user, scopes, livemode
 * and client_id. The form's client_id may be anything: the original's clients send
 * their partner id there, while their own changes are told apart by the key's client_id.
 */
export async function grantForApiKey(ctx: DomainContext, input: { assertion: string }): Promise<TokenResponse> {
  let principal: Principal;
  try {
    principal = await authenticateApiKey(ctx, input.assertion);
  } catch (err) {
    // 401 from authenticateApiKey says unknown or revoked: that is an invalid grant here.
    if (err instanceof HeraldError && err.kind === 'unauthorized') throw new OAuthError('invalid_grant', err.message);
    throw err;
  }
  const t = await issueAccessToken(ctx, principal);
  return { access_token: t.accessToken, token_type: 'Bearer', expires_in: t.expiresIn };
}

/**
 * grant_type=refresh_token: spends the refresh token (each works once) and returns an
 * access token plus its replacement. Fails with invalid_grant when the token is
 * unknown, used, expired, revoked, its connection removed, or it was issued to another
 * client; invalid_client when no connection was ever made for client_id.
 */
export async function grantForRefreshToken(
  ctx: DomainContext,
  input: { refreshToken: string; clientId: string },
): Promise<TokenResponse> {
  if (!(await isKnownClientId(ctx.db, input.clientId))) {
    throw new OAuthError('invalid_client', `unknown client_id: no app connection was made for "${input.clientId}"`);
  }
  const hash = hashSecret(input.refreshToken);
  const now = ctx.clock.now();
  // Load the signing key before spending the token: signing inside the transaction is
  // then pure computation, and a failure rolls the rotation back (the old token still works).
  await identityStateOf(ctx).signingKey();
  return ctx.db.transaction(async (tx) => {
    const t = await findRefreshToken(tx, hash);
    if (!t) throw new OAuthError('invalid_grant', 'unknown refresh token');
    if (t.client_id !== input.clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    if (t.connection_removed_at || t.revoked_at) {
      throw new OAuthError('invalid_grant', 'the refresh token was revoked: its app connection has been removed');
    }
    if (t.used_at) throw new OAuthError('invalid_grant', 'the refresh token was already used (each works once; use the newest)');
    if (t.expires_at.getTime() <= now.getTime()) throw new OAuthError('invalid_grant', 'the refresh token has expired');
    // Loses the race when the same token is being spent concurrently: only one wins.
    if (!(await useRefreshToken(tx, hash, now))) {
      throw new OAuthError('invalid_grant', 'the refresh token was already used (each works once; use the newest)');
    }
    const principal: Principal = {
      organizationUuid: t.organization_uuid,
      userUuid: t.user_uuid,
      userObjectId: t.user_object_id,
      scopes: storedScopes(t.scopes),
      livemode: t.livemode,
      credentialRef: appConnectionRef(t.connection_id),
      clientId: t.client_id,
    };
    const refreshToken = await issueRefreshToken(tx, t.connection_id, now);
    const access = await issueAccessToken(ctx, principal);
    return { access_token: access.accessToken, token_type: 'Bearer', expires_in: access.expiresIn, refresh_token: refreshToken };
  });
}
