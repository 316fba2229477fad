import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Db } from './db.js';
import { makePgliteDb } from './pglite-db.js';
import { makePostgresDb } from './postgres-db.js';

/** Opens the database the configuration names: PostgreSQL when DATABASE_URL is set, else PGlite. */
export async function openDb(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>,
  onIdleError?: (err: Error) => void,
): Promise<Db> {
  if (config.databaseUrl) return makePostgresDb(config.databaseUrl, { poolSize: config.dbPoolSize, onIdleError });
  return makePgliteDb(resolve(config.dataDir));
}
