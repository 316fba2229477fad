import { randomBytes } from 'node:crypto';
import type { Principal } from '../domain/principal.js';

/**
 * Who acts, as the business APIs need it: the principal of the request. Its
 * organizationUuid is the organization every read and write is confined to, its
 * livemode the livemode of every event it causes.
 */
export type Actor = Pick<Principal, 'organizationUuid' | 'userUuid' | 'userObjectId' | 'livemode' | 'clientId'>;

/** A new etag: 32 uppercase hex, the spec's form; random, so it changes on every write. */
export const newEtag = (): string => randomBytes(16).toString('hex').toUpperCase();
