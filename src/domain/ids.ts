import { createHash, randomBytes } from 'node:crypto';
import { v1 as uuidv1, v5 as uuidv5, validate, version } from 'uuid';

/** A time-based (version 1) UUID, the form the spec uses for organizations, subscriptions, messages. */
export const newUuidV1 = (msecs?: number): string => (msecs === undefined ? uuidv1() : uuidv1({ msecs }));

/** A name-based (version 5) UUID: the same names always give the same id (messageId in the spec's examples). */
export const nameUuid = (name: string, namespace: string): string => uuidv5(name, namespace);

export const isUuid = (s: string): boolean => validate(s);
export const isUuidV5 = (s: string): boolean => validate(s) && version(s) === 5;
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

/** Herald's namespace for name-based message ids (a fixed, random v4 UUID: never change it). */
const MESSAGE_ID_NAMESPACE = '5b0a3c1e-6f47-4d2b-9a8e-3c7d1f24b6a9';

/**
 * The Pusher `messageId` of a message: a version-5 UUID, as in the spec's examples and
 * the original's deliveries. A producer's own id (the publish endpoint) names it, so the
 * same producer id is always the same message; one that already is a version-5 UUID is
 * kept (lower-cased). Without one, Herald names the message after a fresh v1 UUID.
 */
export function pusherMessageId(producerId?: string): string {
  if (producerId === undefined) return nameUuid(newUuidV1(), MESSAGE_ID_NAMESPACE);
  if (isUuidV5(producerId)) return producerId.toLowerCase();
  return nameUuid(producerId, MESSAGE_ID_NAMESPACE);
}

/**
 * The Inventory envelope's event `id`: 24 lowercase hex (an ObjectId). A producer's own id
 * in that form is kept; any other producer id is named by the first 12 bytes of its
 * SHA-256, so the same producer id stays one message.
 */
export function inventoryEventId(now: Date, producerId?: string): string {
  if (producerId === undefined) return newObjectId(now);
  if (/^[0-9a-fA-F]{24}$/.test(producerId)) return producerId.toLowerCase();
  return createHash('sha256').update(producerId, 'utf8').digest('hex').slice(0, 24);
}

/** A secret of `bytes` random bytes in base64url, with a prefix that says what it is. */
export const newSecret = (prefix: string, bytes = 32): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;
