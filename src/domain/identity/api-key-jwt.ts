import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import type { Scope } from '../scopes.js';
import { API_KEY_KEY, type SigningKey } from './signing-key.js';

/**
 * Herald's API keys are JWTs of the shape the original service issues (docs/auth.md):
 * clients decode them without verifying (the PayPal POS plugin refuses anything that is
 * not three base64url JSON parts; SwagPayPal reads `client_id` to recognise its own
 * changes in InventoryBalanceChanged's `updated.clientUuid`). Herald trusts a key by the
 * SHA-256 of the whole string, stored when the key was made, not by its claims.
 */

/** `iss` of Herald's API keys: who issued it (the original says "iZettle"). */
export const API_KEY_ISSUER = 'Herald';
/** `aud` of Herald's API keys: the API, as the original's. */
export const API_KEY_AUDIENCE = 'API';
/** `type` of an API key, as the original's: a user assertion for the jwt-bearer grant. */
export const API_KEY_TYPE = 'user-assertion';
/** An API key is valid until revoked; `exp` is set 30 years out, as far as the original's. */
export const API_KEY_LIFETIME_SECONDS = 30 * 365 * 24 * 3600;

/** The claims of an API key. */
export interface ApiKeyClaims {
  iss: string;
  aud: string;
  exp: number;
  iat: number;
  /** The user the key acts as. */
  sub: string;
  renewed: false;
  scope: Scope[];
  user: { userType: 'USER'; uuid: string; orgUuid: string; userRole: 'OWNER' };
  type: typeof API_KEY_TYPE;
  /** The OAuth client the key belongs to: InventoryBalanceChanged's updated.clientUuid for its changes. */
  client_id: string;
}

/** Signs a new API key (RS256, Herald's API-key kid). */
export async function signApiKey(
  key: SigningKey,
  input: { userUuid: string; organizationUuid: string; scopes: Scope[]; clientId: string; issuedAt: Date },
): Promise<string> {
  const iat = Math.floor(input.issuedAt.getTime() / 1000);
  const claims: ApiKeyClaims = {
    iss: API_KEY_ISSUER,
    aud: API_KEY_AUDIENCE,
    exp: iat + API_KEY_LIFETIME_SECONDS,
    iat,
    sub: input.userUuid,
    renewed: false,
    scope: input.scopes,
    user: { userType: 'USER', uuid: input.userUuid, orgUuid: input.organizationUuid, userRole: 'OWNER' },
    type: API_KEY_TYPE,
    client_id: input.clientId,
  };
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}

/** Whether a bearer token is one of Herald's JWT API keys (by its header's kid), without trusting it. */
export function isApiKeyJwt(token: string): boolean {
  try {
    return decodeProtectedHeader(token).kid === API_KEY_KEY.kid;
  } catch {
    return false;
  }
}

/** The `exp` of a JWT API key, in Unix seconds (undefined when it has none or does not decode). */
export function apiKeyExpiry(token: string): number | undefined {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}
