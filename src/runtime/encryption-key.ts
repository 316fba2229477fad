import { randomBytes } from 'node:crypto';
import { ConfigError, parseEncryptionKey, type Config } from '../config.js';
import { SecretBox } from '../domain/sealed-secrets.js';
import { dataDirSecretPath, readDataDirSecret, writeDataDirSecret } from './data-dir-secret.js';

const FILE = 'encryption-key';

export const encryptionKeyPath = (dataDir: string) => dataDirSecretPath(dataDir, FILE);

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
  const key = randomBytes(32);
  const path = writeDataDirSecret(config.dataDir, FILE, key.toString('base64'));
  return { box: new SecretBox(key, previous), generatedAt: path };
}

function readStoredKey(dataDir: string): Buffer | undefined {
  const stored = readDataDirSecret(dataDir, FILE);
  if (stored === undefined) return undefined;
  try {
    return parseEncryptionKey(stored);
  } catch (err) {
    throw new ConfigError([`${encryptionKeyPath(dataDir)}: ${(err as Error).message}`]);
  }
}
