import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest: what Herald must read back in clear (a subscription's signing key, the
 * private half of its token signing keys) is stored sealed with AES-256-GCM under a key
 * the database never sees (HERALD_ENCRYPTION_KEY), so a dump or a backup of the database
 * hands out nothing usable.
 *
 * A sealed value is text: `sealed:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`.
 * - The key id is the first 8 bytes of the key's SHA-256, so a value names the key that
 *   opens it, and rotation can tell which values are still under an old key.
 * - The IV is 12 random bytes per value (2^-32 collision risk only after ~2^32 seals
 *   under one key, far beyond Herald's number of secrets).
 * - The purpose (which column the value belongs to) is authenticated data: a sealed
 *   value copied into another column does not open.
 * A value without the prefix was stored before sealing existed; it is read as it is and
 * resealed by the next `reseal` (at start, or `herald reseal`).
 */

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed value is for; bound into the ciphertext. */
export type SecretPurpose = 'subscription-signing-key' | 'token-signing-key';

export class SecretUnavailableError extends Error {
  constructor(readonly keyId: string) {
    super(
      `a secret in the database is sealed with encryption key ${keyId}, which this process does not have: ` +
        'add that key to HERALD_PREVIOUS_ENCRYPTION_KEYS (and run `herald reseal`)',
    );
    this.name = 'SecretUnavailableError';
  }
}

export class SecretCorruptError extends Error {
  constructor(keyId: string) {
    super(`a sealed secret under encryption key ${keyId} does not open: it was altered or copied from elsewhere`);
    this.name = 'SecretCorruptError';
  }
}

/** The id a sealed value names its key by: 16 hex digits of the key's SHA-256. */
export const encryptionKeyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** Which key a stored value is under: its id, or null for a value stored in clear. */
export function sealedKeyId(stored: string): string | null {
  if (!stored.startsWith(PREFIX)) return null;
  const end = stored.indexOf(':', PREFIX.length);
  return end < 0 ? null : stored.slice(PREFIX.length, end);
}

/** Opened values kept in memory: the worker opens a subscription's key for every delivery. */
const OPENED_CACHE_LIMIT = 10_000;

export class SecretBox {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();
  private readonly opened = new Map<string, string>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32) throw new Error('an encryption key must be 32 bytes');
      this.keys.set(encryptionKeyId(key), key);
    }
    this.currentKeyId = encryptionKeyId(current);
  }

  /** The ids of every key this box can open with. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plain: string, purpose: SecretPurpose): string {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    return `${PREFIX}${this.currentKeyId}:${sealed}`;
  }

  /** The clear value of a stored one; a value stored before sealing is returned as it is. */
  open(stored: string, purpose: SecretPurpose): string {
    const keyId = sealedKeyId(stored);
    if (keyId === null) return stored;
    const memo = `${purpose}\n${stored}`;
    const hit = this.opened.get(memo);
    if (hit !== undefined) return hit;
    const key = this.keys.get(keyId);
    if (!key) throw new SecretUnavailableError(keyId);
    const raw = Buffer.from(stored.slice(PREFIX.length + keyId.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretCorruptError(keyId);
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretCorruptError(keyId);
    }
    if (this.opened.size >= OPENED_CACHE_LIMIT) this.opened.clear();
    this.opened.set(memo, plain);
    return plain;
  }

  /** True when a stored value is sealed under the current key (nothing for reseal to do). */
  isCurrent(stored: string): boolean {
    return sealedKeyId(stored) === this.currentKeyId;
  }

  /** The value sealed under the current key (opened first with whichever key it is under). */
  reseal(stored: string, purpose: SecretPurpose): string {
    return this.seal(this.open(stored, purpose), purpose);
  }
}
