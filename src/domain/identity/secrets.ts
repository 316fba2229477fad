import { createHash } from 'node:crypto';
import { newSecret } from '../ids.js';

/**
 * The formats of Herald's credential secrets. Each carries 32 random bytes (256 bits)
 * behind a prefix that says what it is, so a leaked string is recognisable (secret
 * scanners) and an API key is told from a JWT access token without parsing it.
 */
export const API_KEY_PREFIX = 'hk_';
export const REFRESH_TOKEN_PREFIX = 'hrt_';

/** How many leading characters of an API key are kept in clear, to tell keys apart in listings. */
const SHOWN_PREFIX_LENGTH = 12;

export const newRefreshTokenSecret = (): string => newSecret(REFRESH_TOKEN_PREFIX);

/** A key issued before API keys became JWTs (`hk_live_...`, `hk_test_...`); such keys keep working. */
export const looksLikeLegacyApiKey = (token: string): boolean => token.startsWith(API_KEY_PREFIX);

/**
 * What listings show of a key to tell keys apart: a legacy key's first characters, or,
 * for a JWT key (whose first characters are the same for every key), `…` and the last
 * characters of its signature.
 */
export const shownPrefixOf = (apiKey: string): string =>
  looksLikeLegacyApiKey(apiKey) ? apiKey.slice(0, SHOWN_PREFIX_LENGTH) : `…${apiKey.slice(-SHOWN_PREFIX_LENGTH)}`;

/**
 * The stored form of a secret: SHA-256, hex. A plain (unsalted, fast) hash is enough
 * because the secrets are 256-bit random, not passwords: there is nothing to guess, and
 * the lookup must be one index probe per request.
 */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');
