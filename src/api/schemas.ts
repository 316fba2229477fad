import { STATUS_CODES } from 'node:http';
import { Type, type TSchema } from 'typebox';
import { errorStatusesOf, errorTypesOf, type ErrorFamily } from './error-types.js';

/** The path parameters of a route under /organizations/{organizationUuid}. */
export const OrgParams = Type.Object({
  organizationUuid: Type.String({ description: "The organization uuid, or `self` for the credential's organization." }),
});

/** The spec's error body, for every route's error responses in OpenAPI. */
export const ErrorBodySchema = Type.Object(
  {
    developerMessage: Type.String(),
    errorType: Type.String(),
    violations: Type.Array(Type.Object({ propertyName: Type.String(), developerMessage: Type.String() })),
  },
  { $id: 'ErrorBody', description: 'The error body of every 4xx and 5xx answer.' },
);

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

/** The name of a status's error body schema: Error404, BetterezError404. */
export const errorSchemaName = (status: number, family: ErrorFamily) => `${family === 'inventory' ? 'Betterez' : ''}Error${status}`;

/**
 * A status's error body: the family's body, its errorType narrowed to the values that
 * status carries (error-types.ts), each explained. Documentation only: the serializer
 * ignores `enum`, so the bytes sent are the family body's whatever the errorType.
 */
function errorBodyOf(status: number, family: ErrorFamily): TSchema {
  const types = errorTypesOf(status, family);
  const errorType = Type.String({
    enum: types.map((t) => t.errorType),
    description: types.map((t) => `- \`${t.errorType}\`: ${t.when}`).join('\n'),
  });
  const narrowed: Record<string, TSchema> = family === 'inventory' ? { code: errorType, errorType } : { errorType };
  return Type.Unsafe({
    $id: errorSchemaName(status, family),
    description:
      family === 'inventory'
        ? `${status} ${STATUS_CODES[status]} on the Inventory API's paths: Betterez's error body, its code and errorType one of these.`
        : `${status} ${STATUS_CODES[status]}: the spec's error body, its errorType one of these.`,
    allOf: [Type.Ref(family === 'inventory' ? 'BetterezErrorBody' : 'ErrorBody'), Type.Object(narrowed)],
  });
}

/** Every shared error schema, to add to the app (app.addSchema) before the routes that name them. */
export const ERROR_BODY_SCHEMAS: readonly TSchema[] = [
  ErrorBodySchema,
  BetterezErrorBodySchema,
  ...(['spec', 'inventory'] as const).flatMap((family) => errorStatusesOf(family).map((s) => errorBodyOf(s, family))),
];

type SpecError = { developerMessage: string; errorType: string };
type BetterezError = SpecError & { code: string; message: string };

/** Error responses for a route's schema, e.g. errors(400, 401, 403): the spec's body, with each status's errorTypes. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Unsafe<SpecError>(Type.Ref(errorSchemaName(s, 'spec')))]));
}

/** Error responses of an Inventory API route (Betterez's body), e.g. betterezErrors(400, 401). */
export function betterezErrors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Unsafe<BetterezError>(Type.Ref(errorSchemaName(s, 'inventory')))]));
}
