import type { DomainContext } from '../context.js';
import { CredentialCache } from './credential-cache.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';

/**
 * Per-app memory of the identity code: the signing key (read once) and the credential
 * cache. It hangs off the DomainContext the app was built with (one per buildApp, the
 * object every route and the auth hook share), in a WeakMap, because the auth contract
 * (authenticateBearer(ctx, token), requireCredential(app, ctx)) passes nothing else;
 * two apps in one process (tests) therefore behave like two processes.
 */
export interface IdentityState {
  credentials: CredentialCache;
  signingKey(): Promise<SigningKey>;
}

const states = new WeakMap<DomainContext, IdentityState>();

export function identityStateOf(ctx: DomainContext): IdentityState {
  let state = states.get(ctx);
  if (!state) {
    let key: Promise<SigningKey> | undefined;
    state = {
      credentials: new CredentialCache(ctx.clock, ctx.config.credentialCacheSeconds * 1000),
      signingKey: () => {
        // Retried on the next call if loading failed (e.g. the database was down).
        key ??= loadSigningKey(ctx).catch((err: unknown) => {
          key = undefined;
          throw err;
        });
        return key;
      },
    };
    states.set(ctx, state);
  }
  return state;
}
