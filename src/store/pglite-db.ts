import { existsSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, QueryResult, Tx } from './db.js';
import { lockDataDir } from './data-dir-lock.js';
import { initdbInChildProcess, PGLITE_SETTINGS } from './pglite-initdb.js';

function wrap(q: PGlite | Transaction, onCommit: Set<string>): Tx {
  return {
    notifyOnCommit(channel: string): void {
      onCommit.add(channel);
    },
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
  const unlock = dataDir === null ? async () => {} : await lockDataDir(dataDir);
  let pg: PGlite;
  try {
    const dir = dataDir === null ? undefined : `${dataDir}/pglite`;
    if (dir !== undefined && !existsSync(dir)) await initdbInChildProcess(dir);
    pg = await PGlite.create(dir, {
      // startParams replaces PGlite's defaults: keep them. Also applies to older data dirs.
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      initDbStartParams: PGLITE_SETTINGS, // in-memory databases (tests)
    });
  } catch (err) {
    await unlock().catch(() => {});
    throw err;
  }
  // PGlite lives in this process, so a wake-up is a direct call: no NOTIFY round trip.
  const local = new Map<string, Set<(payload: string) => void>>();
  // Commits in one event-loop turn share one wake-up per channel.
  const pendingWake = new Set<string>();
  const wake = (channels: Set<string>) => {
    const first = pendingWake.size === 0;
    for (const c of channels) pendingWake.add(c);
    if (!first) return;
    setImmediate(() => {
      const batch = [...pendingWake];
      pendingWake.clear();
      for (const c of batch) for (const cb of local.get(c) ?? []) cb('');
    });
  };
  const root = wrap(pg, new Set()); // statements outside a transaction: nothing to notify on commit
  let closed = false;
  return {
    kind: 'pglite',
    query: root.query,
    async transaction(fn) {
      const channels = new Set<string>();
      const result = await pg.transaction((tx) => fn(wrap(tx, channels)));
      if (channels.size > 0) wake(channels);
      return result;
    },
    exec: root.exec,
    listen: async (channel, onNotify) => {
      const unsubscribe = await pg.listen(channel, onNotify);
      let set = local.get(channel);
      if (!set) local.set(channel, (set = new Set()));
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
        if (!closed) await unsubscribe();
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        await unlock().catch(() => {});
      }
    },
  };
}
