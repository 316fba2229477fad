import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { makePgliteDb } from '../../src/store/pglite-db.js';
import { makePostgresDb } from '../../src/store/postgres-db.js';

/** A fresh, migrated database of one backend, for one test file or suite. */
export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** Opens a fresh empty database (migrated unless told otherwise). */
  open(opts?: { migrated?: boolean }): Promise<TestDb>;
}

export interface TestDb {
  db: Db;
  /** The connection URL (PostgreSQL only), for starting Herald processes on the same database. */
  url?: string;
  dispose(): Promise<void>;
}

const pglite: TestDatabase = {
  name: 'pglite',
  async open(opts = {}) {
    const db = await makePgliteDb(null);
    if (opts.migrated !== false) await migrate(db);
    return { db, dispose: () => db.close() };
  },
};

/** A new database on the server at HERALD_TEST_DATABASE_URL, dropped on dispose. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.HERALD_TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('HERALD_TEST_DATABASE_URL is not set');
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const postgres: TestDatabase = {
  name: 'postgres',
  async open(opts = {}) {
    const created = await createPostgresDatabase();
    const db = await makePostgresDb(created.url, { poolSize: 10 });
    if (opts.migrated !== false) await migrate(db);
    return {
      db,
      url: created.url,
      async dispose() {
        await db.close();
        await created.drop();
      },
    };
  },
};

/**
 * The backends to run a suite against: PGlite always, PostgreSQL when
 * HERALD_TEST_DATABASE_URL is set (CI always sets it).
 */
export function testDatabases(): TestDatabase[] {
  return process.env.HERALD_TEST_DATABASE_URL ? [pglite, postgres] : [pglite];
}
