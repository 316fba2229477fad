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
