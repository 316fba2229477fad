import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.js';

/**
 * Herald's migration runner: numbered plain-SQL files in store/migrations
 * (`NNN_name.sql`), applied in order, each recorded in herald_migrations.
 *
 * Why our own: ~60 lines that run unchanged on PGlite and PostgreSQL (the maintained
 * tools need a pg connection string, which PGlite has not). All pending migrations run in
 * one transaction holding an advisory lock, so API and worker processes starting at the
 * same time on one PostgreSQL apply each migration exactly once, and a failing migration
 * leaves the schema as it was.
 */

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// An arbitrary constant shared by every Herald process: "the migration lock".
const MIGRATION_LOCK_KEY = 727_001;

/** Loads the migration files shipped with this build, in order. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
      if (!m) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
      return { id: Number(m[1]), name: m[2]!, sql: readFileSync(`${dir}/${file}`, 'utf8') };
    })
    .sort((a, b) => a.id - b.id);
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3...; found ${m.id} at position ${i + 1}`);
  });
  return migrations;
}

const CREATE_TABLE = `
  create table if not exists herald_migrations (
    id integer primary key,
    name text not null,
    applied_at timestamptz not null default now()
  )`;

async function applied(q: Queryable): Promise<{ id: number; name: string }[]> {
  const r = await q.query<{ id: number; name: string }>('select id, name from herald_migrations order by id');
  return r.rows;
}

/** Applies pending migrations; returns the names it applied. */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(CREATE_TABLE);
    const done = await applied(tx);
    for (const row of done) {
      const known = migrations.find((m) => m.id === row.id);
      if (!known) {
        throw new Error(
          `the database has migration ${row.id} (${row.name}) that this Herald does not know: it was migrated by a newer version`,
        );
      }
      if (known.name !== row.name) {
        throw new Error(`migration ${row.id} is "${row.name}" in the database but "${known.name}" in this build`);
      }
    }
    const pending = migrations.filter((m) => !done.some((d) => d.id === m.id));
    for (const m of pending) {
      await tx.exec(m.sql);
      await tx.query('insert into herald_migrations (id, name) values ($1, $2)', [m.id, m.name]);
    }
    return pending.map((m) => `${String(m.id).padStart(3, '0')}_${m.name}`);
  });
}

/** True when every migration of this build is applied (readiness). */
export async function isMigrated(db: Queryable, migrations: Migration[] = loadMigrations()): Promise<boolean> {
  try {
    const done = await applied(db);
    return migrations.every((m) => done.some((d) => d.id === m.id));
  } catch {
    return false; // no migrations table yet
  }
}
