import type { Violation } from '../errors.js';
import { payloadViolations } from './payload-schemas.js';

/**
 * Checks a published payload against the event catalog: every payload is a JSON object
 * (receivers decode `payload` into one), and events whose shape the spec shows must
 * have every field of it with the spec's type (payload-schemas.ts; extra fields are
 * allowed, as receivers ignore unknown fields).
 */
export function validatePayload(eventName: string, payload: unknown): Violation[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return [{ propertyName: 'payload', developerMessage: 'must be a JSON object' }];
  }
  return payloadViolations(eventName, payload).map((v) => ({ ...v, propertyName: `payload.${v.propertyName}`.replace(/\.payload$/, '') }));
}
