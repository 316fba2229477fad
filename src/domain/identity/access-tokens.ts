import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { unauthorized } from '../../errors.js';
import type { DomainContext } from '../context.js';
import type { Principal } from '../principal.js';
import { isUuid } from '../ids.js';
import { isApiKeyLive } from '../../store/api-keys.js';
import { isAppConnectionLive } from '../../store/app-connections.js';
import { identityStateOf } from './identity-state.js';
import { storedScopes } from './scope-list.js';
import { ACCESS_TOKEN_KEY } from './signing-key.js';

/** JWT `typ` of Herald's access tokens (RFC 9068), so no other JWT passes for one. */
const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * The claims of an access token. Standard: iss, sub (the user uuid), iat, exp,
 * client_id. Herald's: org (organization uuid), scopes, livemode, cred (the credential
 * it was issued from: 'api_key:<id>' or 'app_connection:<id>'), uoid (the user's
 * 24-hex ObjectId).
 */
interface AccessTokenClaims extends JWTPayload {
  org: string;
  scopes: string[];
  livemode: boolean;
  cred: string;
  uoid: string;
  client_id?: string;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
}

/** The issuer named in tokens: HERALD_PUBLIC_URL, else http://HOST:PORT. Informational (see verify). */
export const issuerOf = (config: DomainContext['config']): string =>
  config.publicUrl ?? `http://${config.host}:${config.port}`;

/**
 * Signs an access token for the principal, valid `ttlSeconds` (default
 * HERALD_ACCESS_TOKEN_TTL_SECONDS) from the clock's now. Its client_id is the principal's (the API key's claim, or the app
 * connection's client), so changes made with the token name the same client as the key.
 */
export async function issueAccessToken(
  ctx: DomainContext,
  p: Principal,
  ttlSeconds = ctx.config.accessTokenTtlSeconds,
): Promise<IssuedAccessToken> {
  const key = await identityStateOf(ctx).signingKey();
  const iat = Math.floor(ctx.clock.now().getTime() / 1000);
  const ttl = ttlSeconds;
  const claims: AccessTokenClaims = {
    org: p.organizationUuid,
    scopes: [...p.scopes],
    livemode: p.livemode,
    cred: p.credentialRef,
    uoid: p.userObjectId,
    ...(p.clientId ? { client_id: p.clientId } : {}),
  };
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: ACCESS_TOKEN_KEY.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(issuerOf(ctx.config))
    .setSubject(p.userUuid)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key.privateKey);
  return { accessToken, expiresIn: ttl };
}

const CRED_REF = /^(api_key|app_connection):([0-9a-f-]{36})$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;

const malformed = (why: string) => unauthorized('UNAUTHORIZED', `malformed access token: ${why}`);

/**
 * Verifies an access token and returns its principal, or throws 401 saying why:
 * expired, bad signature, malformed, or issued from a key since revoked / a connection
 * since removed. Expiry is judged by ctx.clock.
 *
 * The issuer is not compared: trust comes from the signing key, which belongs to the
 * database, and processes sharing one may each be reached under another host:port.
 */
export async function verifyAccessToken(ctx: DomainContext, token: string): Promise<Principal> {
  const state = identityStateOf(ctx);
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw malformed('not a JWT');
  }
  const key = await state.signingKey();
  if (header.kid !== key.kid) {
    throw unauthorized('UNAUTHORIZED', 'bad access token signature: it was not signed by this Herald');
  }
  let claims: AccessTokenClaims;
  try {
    const r = await jwtVerify<AccessTokenClaims>(token, key.publicKey, {
      algorithms: [ACCESS_TOKEN_KEY.alg],
      typ: ACCESS_TOKEN_TYP,
      currentDate: ctx.clock.now(),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    claims = r.payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('UNAUTHORIZED', 'the access token has expired');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JOSEAlgNotAllowed) {
      throw unauthorized('UNAUTHORIZED', 'bad access token signature');
    }
    if (err instanceof joseErrors.JOSEError) throw malformed((err as Error).message);
    throw err;
  }

  const cred = typeof claims.cred === 'string' ? CRED_REF.exec(claims.cred) : null;
  if (
    !cred ||
    !isUuid(cred[2]!) ||
    typeof claims.sub !== 'string' ||
    !isUuid(claims.sub) ||
    typeof claims.org !== 'string' ||
    !isUuid(claims.org) ||
    !Array.isArray(claims.scopes) ||
    !claims.scopes.every((s) => typeof s === 'string') ||
    typeof claims.livemode !== 'boolean' ||
    typeof claims.uoid !== 'string' ||
    !OBJECT_ID.test(claims.uoid) ||
    (claims.client_id !== undefined && typeof claims.client_id !== 'string')
  ) {
    throw malformed('missing or invalid claims');
  }

  const ref = claims.cred;
  let live = state.credentials.get(ref);
  if (live === undefined) {
    live = cred[1] === 'api_key' ? await isApiKeyLive(ctx.db, cred[2]!) : await isAppConnectionLive(ctx.db, cred[2]!);
    state.credentials.set(ref, live);
  }
  if (!live) {
    throw unauthorized(
      'UNAUTHORIZED',
      cred[1] === 'api_key'
        ? 'the access token was issued from an API key that has been revoked'
        : 'the access token was issued to an app connection that has been removed',
    );
  }
  return {
    organizationUuid: claims.org,
    userUuid: claims.sub,
    userObjectId: claims.uoid,
    scopes: storedScopes(claims.scopes),
    livemode: claims.livemode,
    credentialRef: ref,
    clientId: claims.client_id ?? null,
  };
}
