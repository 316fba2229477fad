import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LONE_SURROGATE } from '../../domain/destinations.js';
import { badRequest, type Violation } from '../../errors.js';

/**
 * The rules every input obeys, wherever it enters, applied once for the whole app
 * rather than route by route (issue 13: 500s on bad text and numbers):
 *
 * - **Text the database can store.** PostgreSQL text and jsonb hold neither U+0000 nor
 *   a lone UTF-16 surrogate; a string with one (in a path parameter, the query, a body
 *   value or a body key) is 400 VALIDATION_ERROR naming where, before any route runs.
 * - **Integers the store can hold.** Every integer a route's schema accepts (query,
 *   path, body) is bounded by ±(2^53 − 1) unless the schema says tighter: beyond, JSON
 *   numbers lose precision and bigint columns overflow. Added to the schemas when a
 *   route is registered, so OpenAPI shows the bound too.
 * - **Bounded nesting.** JSON deeper than MAX_JSON_DEPTH is refused while parsing
 *   (jsonParseDepthError), before a recursive validator or the store sees it.
 * - **Bounded answers.** At most MAX_VIOLATIONS violations are reported.
 */

/** Deeper JSON is 400: no request of Herald's needs more than a handful of levels. */
export const MAX_JSON_DEPTH = 64;
/** An error answer names at most this many violations (the rest are counted in its message). */
export const MAX_VIOLATIONS = 10;
const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

type JsonSchema = Record<string, unknown>;

/** Adds ±(2^53 − 1) bounds to every integer of a schema that has none (in place; idempotent). */
function boundIntegers(schema: unknown, seen = new Set<unknown>()): void {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const s = schema as JsonSchema;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('integer')) {
    if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = MAX_INTEGER;
    if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = -MAX_INTEGER;
  }
  for (const key of ['properties', 'patternProperties', '$defs', 'definitions']) {
    const children = s[key];
    if (children && typeof children === 'object') for (const c of Object.values(children)) boundIntegers(c, seen);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else']) boundIntegers(s[key], seen);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const list = s[key];
    if (Array.isArray(list)) for (const c of list) boundIntegers(c, seen);
  }
}

/** Why a string cannot be stored, or undefined when it can. */
function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain U+0000';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no lone surrogate)';
  return undefined;
}

/** Every unstorable string (values and keys) under `value`, named by its path; stops after `max`. */
export function unstorableText(value: unknown, root: string, max = MAX_VIOLATIONS): Violation[] {
  const found: Violation[] = [];
  // Iterative, so that no input can exhaust the stack (nesting is bounded anyway).
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0 && found.length < max) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p) found.push({ propertyName: path, developerMessage: p });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}.${i}`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v).reverse()) {
        const p = textProblem(k);
        if (p) found.push({ propertyName: `${path}.${k.replace(/[^\x20-\x7e]/g, '?')}`, developerMessage: `key ${p}` });
        stack.push([x, `${path}.${k}`]);
      }
    }
  }
  return found;
}

/**
 * The nesting depth of a JSON text, computed without parsing it (brackets outside
 * strings), so that a hostile body is refused in linear time and constant stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** No route takes an array longer than this (the largest schema cap: purchase lines, variants, balance changes). */
export const MAX_ARRAY_ITEMS = 1000;
/** No route needs more values than this in one body (1000 purchase lines of a dozen fields fit). */
export const MAX_JSON_VALUES = 50_000;

/**
 * The 400 for a parsed JSON body too large to validate cheaply, or undefined: an array
 * longer than MAX_ARRAY_ITEMS, or more than MAX_JSON_VALUES values in all. Checked
 * before the schema, whose validator would otherwise visit (and report on) every one of
 * 100,000 items of a 300 KB body.
 */
export function jsonSizeError(value: unknown) {
  let values = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (++values > MAX_JSON_VALUES) {
      return badRequest('VALIDATION_ERROR', `the JSON body holds more than ${MAX_JSON_VALUES} values`, [
        { propertyName: 'body', developerMessage: `must hold at most ${MAX_JSON_VALUES} values` },
      ]);
    }
    if (Array.isArray(v)) {
      if (v.length > MAX_ARRAY_ITEMS) {
        return badRequest('VALIDATION_ERROR', `a JSON array holds ${v.length} items; at most ${MAX_ARRAY_ITEMS} are accepted`, [
          { propertyName: 'body', developerMessage: `arrays must hold at most ${MAX_ARRAY_ITEMS} items` },
        ]);
      }
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return undefined;
}

/** The 400 for a JSON text nested too deep, or undefined. */
export function jsonParseDepthError(text: string) {
  const depth = jsonDepth(text);
  if (depth <= MAX_JSON_DEPTH) return undefined;
  return badRequest('VALIDATION_ERROR', `the JSON body is nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`, [
    { propertyName: 'body', developerMessage: `must be nested at most ${MAX_JSON_DEPTH} levels deep` },
  ]);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set at registration: the query and path parameters the route's schema types as integers. */
    integerParams?: { query: string[]; params: string[] };
    /**
     * The route's domain validates every body and query field itself, with the status
     * its specification gives each field (the Pusher API: 422 for a destination, 400 for
     * a uuid), so the shared text rule checks only its path parameters.
     */
    validatesOwnInput?: boolean;
  }
}

/** The names of a parameters schema's integer properties. */
function integerNames(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(props)
    .filter(([, p]) => p.type === 'integer' || (Array.isArray(p.type) && p.type.includes('integer')))
    .map(([k]) => k);
}

/** An integer as a query or path parameter: plain decimal digits (no exponent, no Infinity), at most 16 of them. */
const INTEGER_TEXT = /^[+-]?\d{1,16}$/;

/**
 * The validator coerces `1e309` or a 400-digit number to Infinity, which a bigint column
 * refuses: integer parameters must be written as plain, bounded digits before any
 * coercion (the schemas' ±(2^53 − 1) bounds decide the rest).
 */
function integerParamViolations(req: FastifyRequest): Violation[] {
  const names = req.routeOptions.config?.integerParams;
  if (!names) return [];
  const out: Violation[] = [];
  for (const [part, keys] of [['query', names.query], ['params', names.params]] as const) {
    const values = (part === 'query' ? req.query : req.params) as Record<string, unknown> | undefined;
    for (const key of keys) {
      const raw = values?.[key];
      for (const v of Array.isArray(raw) ? raw : [raw]) {
        if (typeof v === 'string' && !INTEGER_TEXT.test(v)) out.push({ propertyName: key, developerMessage: 'must be an integer written in at most 16 digits' });
      }
    }
  }
  return out;
}

function checkText(req: FastifyRequest): void {
  // An unserved path or method is a 404 whatever its body holds.
  if (req.is404) return;
  const own = req.routeOptions.config?.validatesOwnInput === true;
  const violations = [
    ...integerParamViolations(req),
    ...unstorableText(req.params, 'params'),
    ...(own ? [] : unstorableText(req.query, 'query')),
    ...(own ? [] : unstorableText(req.body, 'body')),
  ].slice(0, MAX_VIOLATIONS);
  if (violations.length > 0) {
    // Path names relative to the request part, as schema violations are ("name", not "body.name").
    const named = violations.map((v) => ({ ...v, propertyName: v.propertyName.replace(/^(params|query|body)\./, '') }));
    throw badRequest('VALIDATION_ERROR', `${named[0]!.propertyName} ${named[0]!.developerMessage}`, named);
  }
}

export default fp(
  async function inputRules(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      const schema = route.schema as Record<string, unknown> | undefined;
      if (!schema) return;
      for (const part of ['querystring', 'params', 'body', 'headers']) boundIntegers(schema[part]);
      const query = integerNames(schema.querystring);
      const params = integerNames(schema.params);
      if (query.length + params.length > 0) route.config = { ...route.config, integerParams: { query, params } };
    });
    // preValidation: after parsing (the body exists), before schemas and handlers; also
    // for routes that validate their input themselves (the Pusher API's).
    app.addHook('preValidation', async (req) => checkText(req));
  },
  { name: 'herald-input-rules' },
);
