import { Type } from 'typebox';

/** The spec's error body, for every route's error responses in OpenAPI. */
export const ErrorBodySchema = Type.Object(
  {
    developerMessage: Type.String(),
    errorType: Type.String(),
    violations: Type.Array(Type.Object({ propertyName: Type.String(), developerMessage: Type.String() })),
  },
  { $id: 'ErrorBody', description: 'The error body of every 4xx and 5xx answer.' },
);

export const errorRef = Type.Unsafe<{ developerMessage: string; errorType: string }>(Type.Ref('ErrorBody'));

/** Error responses for a route's schema, e.g. errors(400, 401, 403). */
export function errors(...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]));
}

/**
 * The error body of the Inventory API routes (payment terminals, undelivered webhooks):
 * Betterez's `{code, message}`, which its clients read, beside the spec's three fields.
 * `code` is the errorType, `message` the developerMessage.
 */
export const BetterezErrorBodySchema = Type.Object(
  {
    code: Type.String({ description: 'The errorType, e.g. PAYMENT_TERMINAL_NOT_FOUND.' }),
    message: Type.String(),
    developerMessage: Type.String(),
    errorType: Type.String(),
    violations: ErrorBodySchema.properties.violations,
  },
  { $id: 'BetterezErrorBody', description: 'The error body of the Inventory API routes.' },
);

const betterezErrorRef = Type.Unsafe<{ code: string; message: string }>(Type.Ref('BetterezErrorBody'));

/** Error responses of an Inventory API route (Betterez's body), e.g. betterezErrors(400, 401). */
export function betterezErrors(...statuses: number[]): Record<number, typeof betterezErrorRef> {
  return Object.fromEntries(statuses.map((s) => [s, betterezErrorRef]));
}
