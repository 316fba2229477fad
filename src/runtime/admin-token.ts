import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';

export const adminTokenPath = (dataDir: string) => resolve(join(dataDir, 'admin-token'));

/** Reads the token kept in the data dir, if one was generated there. */
export function readStoredAdminToken(dataDir: string): string | undefined {
  const path = adminTokenPath(dataDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

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
  const path = adminTokenPath(config.dataDir);
  const stored = readStoredAdminToken(config.dataDir);
  if (stored) return { token: stored, path };
  mkdirSync(config.dataDir, { recursive: true });
  const token = `hat_${randomBytes(32).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, generatedAt: path, path };
}
