/**
 * A credential's reference, as a Principal carries it, access tokens hold it (`cred`),
 * and subscriptions store it (created_by).
 */
export const apiKeyRef = (apiKeyId: string): string => `api_key:${apiKeyId}`;
export const appConnectionRef = (connectionId: string): string => `app_connection:${connectionId}`;
