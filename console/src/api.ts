import createClient from 'openapi-fetch';
import type { components, paths } from '../../src/cli/api-schema.js';

/**
 * The Console's one way to the server: openapi-fetch over the types generated from
 * Herald's OpenAPI document (src/cli/api-schema.ts), so a view that calls a path, a
 * parameter or a field the API does not have fails the type check. The session cookie
 * goes with every request (same origin); a change carries the session's CSRF token.
 */

let csrfToken = '';
let onSignedOut: () => void = () => {};
let onCsrfStale: () => void = () => {};

export function useCsrfToken(token: string): void {
  csrfToken = token;
}

/** What to do when the server says the session is over (401): back to the sign-in page. */
export function whenSignedOut(f: () => void): void {
  onSignedOut = f;
}

/** What to do when a change is refused for its CSRF token (403 CSRF_TOKEN_INVALID): the session changed. */
export function whenCsrfStale(f: () => void): void {
  onCsrfStale = f;
}

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });

api.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
});

export type Schemas = components['schemas'];

/** A refused request, in words: the spec's developerMessage and each violation. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    message: string,
    readonly violations: { propertyName: string; developerMessage: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The answer's data, or throws ApiError (and, on 401 but for the sign-in itself, signs out). */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }, opts: { signIn?: boolean } = {}): T {
  if (answer.response.ok) return answer.data as T;
  const e = (answer.error ?? {}) as { developerMessage?: unknown; errorType?: unknown; violations?: unknown };
  const message =
    typeof e.developerMessage === 'string' ? e.developerMessage : `${answer.response.status} ${answer.response.statusText || 'error'}`;
  const violations = Array.isArray(e.violations)
    ? (e.violations as { propertyName?: unknown; developerMessage?: unknown }[]).map((v) => ({
        propertyName: String(v.propertyName ?? ''),
        developerMessage: String(v.developerMessage ?? ''),
      }))
    : [];
  if (answer.response.status === 401 && !opts.signIn) onSignedOut();
  if (e.errorType === 'CSRF_TOKEN_INVALID') {
    onCsrfStale();
    throw new ApiError(403, 'CSRF_TOKEN_INVALID', 'your session changed (signed in again in another tab?): try again', []);
  }
  throw new ApiError(answer.response.status, typeof e.errorType === 'string' ? e.errorType : undefined, message, violations);
}
