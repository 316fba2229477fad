import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, parseEncryptionKey, type Config } from '../config.js';
import { SecretBox } from '../domain/sealed-secrets.js';

export const encryptionKeyPath = (dataDir: string) => resolve(join(dataDir, 'encryption-key'));

/**
 * The key to secrets at rest, as the admin token is resolved:
 * - HERALD_ENCRYPTION_KEY when set (a key kept in the data dir before it was set stays
 *   readable, so the next reseal moves its values under the new key);
 * - on the embedded database, the key kept in HERALD_DATA_DIR/encryption-key, generated
 *   (0600) on first start;
 * - on PostgreSQL, required: processes on many machines share no data dir, and a key
 *   made up per machine would seal secrets the others cannot open.
 * HERALD_PREVIOUS_ENCRYPTION_KEYS are added for reading.
 */
export function resolveSecretBox(
  config: Pick<Config, 'encryptionKey' | 'previousEncryptionKeys' | 'databaseUrl' | 'dataDir'>,
): { box: SecretBox; generatedAt?: string } {
  const previous = [...config.previousEncryptionKeys];
  if (config.encryptionKey) {
    if (!config.databaseUrl) {
      const stored = readStoredKey(config.dataDir);
      if (stored && !stored.equals(config.encryptionKey)) previous.push(stored);
    }
    return { box: new SecretBox(config.encryptionKey, previous) };
  }
  if (config.databaseUrl) {
    throw new ConfigError([
      'HERALD_ENCRYPTION_KEY: required with DATABASE_URL (every process needs the same key); make one with: openssl rand -base64 32',
    ]);
  }
  const stored = readStoredKey(config.dataDir);
  if (stored) return { box: new SecretBox(stored, previous) };
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  const path = encryptionKeyPath(config.dataDir);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { box: new SecretBox(key, previous), generatedAt: path };
}

function readStoredKey(dataDir: string): Buffer | undefined {
  const path = encryptionKeyPath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    return parseEncryptionKey(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${path}: ${(err as Error).message}`]);
  }
}
