/**
 * Compares JSON documents by shape: the same keys at every level, the same JSON types,
 * and, for strings, the same format (a uuid where the spec has a uuid, the spec's
 * timestamp where it has one, a decimal string where it writes "10"). Values
 * themselves may differ. Numbers are one type: JSON has no integer, and 10.0 parses
 * as 10.
 */

export type Shape = string | Shape[] | { [key: string]: Shape };

/** The formats strings are told apart by, most specific first. */
const STRING_FORMATS: [string, RegExp][] = [
  ['uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  ['spec-timestamp', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$/],
  ['iso-utc-seconds', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/],
  ['iso-utc-millis', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/],
  ['object-id', /^[0-9a-f]{24}$/],
  ['etag', /^[0-9A-F]{32}$/],
  ['decimal', /^-?\d+(\.\d+)?$/],
  ['color', /^#[0-9a-fA-F]{6}$/],
  ['url', /^https?:\/\//],
];

export function stringFormat(s: string): string {
  return STRING_FORMATS.find(([, re]) => re.test(s))?.[0] ?? 'text';
}

/** The shape of a JSON value: `string:<format>`, `number`, `boolean`, `null`, arrays of element shapes, objects of shapes. */
export function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map(shapeOf);
  switch (typeof v) {
    case 'string':
      return `string:${stringFormat(v)}`;
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, shapeOf((v as Record<string, unknown>)[k])]),
      );
    default:
      throw new Error(`not JSON: ${typeof v}`);
  }
}

const kind = (s: Shape) => (typeof s === 'string' ? s : Array.isArray(s) ? 'array' : 'object');

/**
 * Where `actual` differs in shape from `expected`, one line per difference (empty when
 * they match). An empty array on either side matches any array: its elements' shape is
 * unknown. Every element of `actual` is compared with every element of `expected`.
 */
export function shapeDifferences(actual: unknown, expected: unknown, path = '$'): string[] {
  return diff(shapeOf(actual), shapeOf(expected), path);
}

function diff(a: Shape, e: Shape, path: string): string[] {
  if (kind(a) !== kind(e)) return [`${path}: ${kind(a)} where the spec has ${kind(e)}`];
  if (Array.isArray(a) && Array.isArray(e)) {
    return a.flatMap((x, i) => e.flatMap((y) => diff(x, y, `${path}[${i}]`)));
  }
  if (typeof a === 'object' && typeof e === 'object') {
    const ao = a as Record<string, Shape>;
    const eo = e as Record<string, Shape>;
    const out: string[] = [];
    for (const k of Object.keys(eo)) if (!(k in ao)) out.push(`${path}.${k}: missing`);
    for (const k of Object.keys(ao)) if (!(k in eo)) out.push(`${path}.${k}: not in the spec`);
    for (const k of Object.keys(eo)) if (k in ao) out.push(...diff(ao[k]!, eo[k]!, `${path}.${k}`));
    return out;
  }
  return [];
}
