/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or
 * undefined when the header is not of that form. Shared by the admin-token and the
 * credential guards, which answer missing and malformed headers in their own words.
 */
export function bearerToken(header: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}
