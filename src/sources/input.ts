import { badRequest, type Violation } from '../errors.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a client string with one would fail
 * in the database (a 500). The business APIs reject it up front instead: 400 naming
 * every property that has one.
 */
export function rejectNulCharacters(input: unknown): void {
  const violations: Violation[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (v.includes('\u0000')) violations.push({ propertyName: path || 'body', developerMessage: 'must not contain U+0000' });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path ? `${path}.${i}` : String(i)));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(input, '');
  if (violations.length > 0) {
    throw badRequest('VALIDATION_ERROR', `${violations.map((x) => x.propertyName).join(', ')} must not contain U+0000`, violations);
  }
}
