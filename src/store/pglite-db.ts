import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, QueryResult, Tx } from './db.js';
import { lockDataDir } from './data-dir-lock.js';

function wrap(q: PGlite | Transaction): Tx {
  return {
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await q.query<T>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  };
}

/**
 * The embedded database. dataDir null keeps everything in memory (tests); otherwise
 * the directory is locked to this process for as long as the database is open.
 */
export async function makePgliteDb(dataDir: string | null): Promise<Db> {
  const unlock = dataDir === null ? () => {} : lockDataDir(dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataDir === null ? undefined : `${dataDir}/pglite`);
  } catch (err) {
    unlock();
    throw err;
  }
  const root = wrap(pg);
  let closed = false;
  return {
    kind: 'pglite',
    query: root.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    exec: root.exec,
    listen: async (channel, onNotify) => {
      const unsubscribe = await pg.listen(channel, onNotify);
      return async () => {
        if (!closed) await unsubscribe();
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        unlock();
      }
    },
  };
}
