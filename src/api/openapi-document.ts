/**
 * The parts of an OpenAPI 3.1 document the OpenAPI plugin completes after @fastify/swagger
 * has built it from the routes (openapi-common-errors.ts, openapi-webhooks.ts).
 */

/** A JSON Schema: a plain object, or a TypeBox schema (its symbols and hidden keys do not serialize). */
export type JsonSchema = object;

export interface OperationObject {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  webhooks?: Record<string, Record<string, OperationObject>>;
  components: {
    schemas?: Record<string, JsonSchema>;
    responses?: Record<string, unknown>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `#/components/schemas/<name>` */
export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
