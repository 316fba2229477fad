import type { DomainContext } from '../context.js';
import { CredentialCache } from './credential-cache.js';
import { ACCESS_TOKEN_KEY, API_KEY_KEY, loadSigningKey, type SigningKey, type SigningKeySpec } from './signing-key.js';

/**
 * Per-app memory of the identity code: the signing key (read once) and the credential
 * cache. It hangs off the DomainContext the app was built with (one per buildApp, the
 * object every route and the auth hook share), in a WeakMap, because the auth contract
 * (authenticateBearer(ctx, token), requireCredential(app, ctx)) passes nothing else;
 * two apps in one process (tests) therefore behave like two processes.
 */
export interface IdentityState {
  credentials: CredentialCache;
  /** The access-token signing key. */
  signingKey(): Promise<SigningKey>;
  /** The key API keys are signed with. */
  apiKeySigningKey(): Promise<SigningKey>;
}

/** Loads a key once; a failed load (e.g. the database was down) is retried on the next call. */
function once(ctx: DomainContext, spec: SigningKeySpec): () => Promise<SigningKey> {
  let key: Promise<SigningKey> | undefined;
  return () =>
    (key ??= loadSigningKey(ctx, spec).catch((err: unknown) => {
      key = undefined;
      throw err;
    }));
}

const states = new WeakMap<DomainContext, IdentityState>();

export function identityStateOf(ctx: DomainContext): IdentityState {
  let state = states.get(ctx);
  if (!state) {
    state = {
      credentials: new CredentialCache(ctx.clock, ctx.config.credentialCacheSeconds * 1000),
      signingKey: once(ctx, ACCESS_TOKEN_KEY),
      apiKeySigningKey: once(ctx, API_KEY_KEY),
    };
    states.set(ctx, state);
  }
  return state;
}
