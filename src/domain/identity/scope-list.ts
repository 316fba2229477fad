import { badRequest } from '../../errors.js';
import { ALL_SCOPES, isScope, type Scope } from '../scopes.js';

/** Validates the scopes a credential is to get: 400 naming each unknown one. Returns them de-duplicated. */
export function parseScopes(scopes: readonly string[], propertyName = 'scopes'): Scope[] {
  const unknown = scopes.map((s, i) => ({ s, i })).filter(({ s }) => !isScope(s));
  if (unknown.length > 0) {
    throw badRequest(
      'VALIDATION_ERROR',
      `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map(({ s }) => `"${s}"`).join(', ')}; known scopes are ${ALL_SCOPES.join(', ')}`,
      unknown.map(({ s, i }) => ({ propertyName: `${propertyName}.${i}`, developerMessage: `unknown scope "${s}"` })),
    );
  }
  return [...new Set(scopes as Scope[])];
}

/** Scopes as stored, narrowed to the ones this Herald knows (a scope retired later grants nothing). */
export const storedScopes = (scopes: readonly string[]): Scope[] => scopes.filter(isScope);
