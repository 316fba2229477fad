import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A secret Herald generates on the embedded database and keeps beside it in the data dir
 * (the admin token, the encryption key): one line, readable by its owner only (0600),
 * never overwritten.
 */
export const dataDirSecretPath = (dataDir: string, name: string) => resolve(join(dataDir, name));

/** The secret kept under this name, trimmed (empty if its file is); undefined when there is no file. */
export function readDataDirSecret(dataDir: string, name: string): string | undefined {
  const path = dataDirSecretPath(dataDir, name);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/** Keeps a new secret under this name (0600; fails if one exists) and returns its path. */
export function writeDataDirSecret(dataDir: string, name: string, value: string): string {
  mkdirSync(dataDir, { recursive: true });
  const path = dataDirSecretPath(dataDir, name);
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}
