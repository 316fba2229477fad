import { randomBytes } from 'node:crypto';
import { v1 as uuidv1, v5 as uuidv5, validate, version } from 'uuid';

/** A time-based (version 1) UUID, the form the spec uses for organizations, subscriptions, messages. */
export const newUuidV1 = (msecs?: number): string => (msecs === undefined ? uuidv1() : uuidv1({ msecs }));

/** A name-based (version 5) UUID: the same names always give the same id (messageId in the spec's examples). */
export const nameUuid = (name: string, namespace: string): string => uuidv5(name, namespace);

export const isUuid = (s: string): boolean => validate(s);
export const isUuidV1 = (s: string): boolean => validate(s) && version(s) === 1;

/**
 * A MongoDB ObjectId-form id (24 lowercase hex: 4-byte seconds, then 8 random bytes),
 * as the Inventory API uses for payment terminals, accounts and users.
 */
export function newObjectId(at: Date = new Date()): string {
  const seconds = Math.floor(at.getTime() / 1000);
  return seconds.toString(16).padStart(8, '0').slice(-8) + randomBytes(8).toString('hex');
}

export const isObjectId = (s: string): boolean => /^[0-9a-f]{24}$/.test(s);

/** A secret of `bytes` random bytes in base64url, with a prefix that says what it is. */
export const newSecret = (prefix: string, bytes = 32): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;
