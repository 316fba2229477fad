/** The error codes of RFC 6749 section 5.2 that the token endpoint answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

/**
 * A token-endpoint failure. The token endpoint answers these with the OAuth body
 * `{"error", "error_description"}` (not the Pusher API's error body): 401 for
 * invalid_client, 400 otherwise. The description never contains a secret.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }

  get status(): number {
    return this.error === 'invalid_client' ? 401 : 400;
  }
}
