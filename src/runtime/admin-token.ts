import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { dataDirSecretPath, readDataDirSecret, writeDataDirSecret } from './data-dir-secret.js';

const FILE = 'admin-token';

export const adminTokenPath = (dataDir: string) => dataDirSecretPath(dataDir, FILE);

/** Reads the token kept in the data dir, if one was generated there. */
export const readStoredAdminToken = (dataDir: string): string | undefined => readDataDirSecret(dataDir, FILE) || undefined;

/**
 * The admin token in force: HERALD_ADMIN_TOKEN when set; on the embedded database,
 * the one kept in the data dir, generated (0600) on first start. On PostgreSQL with no
 * token set there is none: processes on many machines share no data dir.
 */
export function resolveAdminToken(
  config: Pick<Config, 'adminToken' | 'databaseUrl' | 'dataDir'>,
): { token: string | undefined; generatedAt?: string; path?: string } {
  if (config.adminToken) return { token: config.adminToken };
  if (config.databaseUrl) return { token: undefined };
  const stored = readStoredAdminToken(config.dataDir);
  if (stored) return { token: stored, path: adminTokenPath(config.dataDir) };
  const token = `hat_${randomBytes(32).toString('base64url')}`;
  const path = writeDataDirSecret(config.dataDir, FILE, token);
  return { token, generatedAt: path, path };
}
