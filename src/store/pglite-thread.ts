/**
 * The embedded database's thread (issue 12: "PGlite that keeps up"). PGlite runs
 * PostgreSQL compiled to WebAssembly, synchronously, on whichever thread calls it; in
 * Herald's main thread every statement stalled the event loop that also parses HTTP,
 * signs and sends. Here it runs in a worker thread of its own, and pglite-db.ts talks to
 * it by messages: one request and one reply per statement, transactions held open in
 * this thread between their statements, NOTIFY forwarded.
 *
 * The protocol (this file's types) is the Db interface as messages; nothing else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { PGLITE_SETTINGS } from './pglite-initdb.js';

export type ThreadRequest =
  // `begin`: the transaction's first statement opens it (one message less per transaction:
  // the transaction holds the database from its first statement, not from an empty BEGIN).
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number; begin?: boolean }
  | { id: number; op: 'exec'; sql: string; tx?: number; begin?: boolean }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; channel: string }
  | { id: number; op: 'close' };

/** An error as it crosses the thread: its message, name and PostgreSQL's fields (code, detail...). */
export type ThreadError = { name: string; message: string; fields: Record<string, string | number | boolean | null> };

export type ThreadMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; error: ThreadError }
  | { kind: 'reply'; id: number; value?: unknown }
  | { kind: 'error'; id: number; error: ThreadError }
  | { kind: 'notify'; channel: string; payload: string };

export interface ThreadData {
  /** The data directory, or undefined for an in-memory database. */
  dir: string | undefined;
}

export function toThreadError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: ThreadError['fields'] = {};
  for (const [k, v] of Object.entries(err)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v as string | number | boolean | null;
  }
  return { name: err.name, message: err.message, fields };
}

const ROLLBACK = Symbol('rollback');

async function serve(): Promise<void> {
  const port = parentPort!;
  const post = (m: ThreadMessage) => port.postMessage(m);
  const { dir } = workerData as ThreadData;
  let pg: PGlite;
  try {
    pg = await PGlite.create(dir, {
      // startParams replaces PGlite's defaults: keep them. Also applies to older data dirs.
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      initDbStartParams: PGLITE_SETTINGS, // in-memory databases (tests)
    });
  } catch (err) {
    post({ kind: 'failed', error: toThreadError(err) });
    return;
  }

  // Open transactions: each waits in pg.transaction() for its 'end'.
  const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<void> }>();
  const unlisten = new Map<string, () => Promise<void>>();
  // LISTEN and UNLISTEN of one channel, one after the other (an UNLISTEN still running
  // must not make a LISTEN after it think the channel is listened to).
  const channelOps = new Map<string, Promise<unknown>>();
  const inOrder = (channel: string, op: () => Promise<void>): Promise<void> => {
    const next = (channelOps.get(channel) ?? Promise.resolve()).catch(() => {}).then(op);
    channelOps.set(channel, next);
    return next;
  };
  // Transactions being opened (by their first statement).
  const starting = new Map<number, Promise<void>>();

  const target = (tx: number | undefined): PGlite | Transaction => {
    if (tx === undefined) return pg;
    const t = open.get(tx);
    if (!t) throw new Error(`no open transaction ${tx}`);
    return t.tx;
  };

  const begin = (id: number) =>
    new Promise<void>((resolve, reject) => {
      let started = false;
      let end!: (commit: boolean) => void;
      const decided = new Promise<boolean>((r) => (end = r));
      const done = pg
        .transaction(async (tx) => {
          started = true;
          open.set(id, { tx, end, done });
          resolve();
          if (!(await decided)) throw ROLLBACK;
        })
        .catch((err: unknown) => {
          if (err === ROLLBACK) return;
          if (!started) reject(err instanceof Error ? err : new Error(String(err)));
          throw err;
        });
      // A BEGIN that failed rejected the request above; the 'end' reads the outcome otherwise.
      done.catch(() => {});
    });

  async function run(m: ThreadRequest): Promise<unknown> {
    if ((m.op === 'query' || m.op === 'exec') && m.begin && m.tx !== undefined) starting.set(m.tx, begin(m.tx));
    // Statements sent side by side in one transaction wait for the first to have opened it.
    if ((m.op === 'query' || m.op === 'exec') && m.tx !== undefined) await starting.get(m.tx);
    if (m.op === 'end') {
      // The transaction ends here: its opening is forgotten whatever became of it (a BEGIN
      // that failed is this reply's error, as before).
      try {
        await starting.get(m.tx);
      } finally {
        starting.delete(m.tx);
      }
    }
    switch (m.op) {
      case 'query': {
        const r = await target(m.tx).query(m.sql, m.params);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
      }
      case 'exec':
        await target(m.tx).exec(m.sql);
        return undefined;
      case 'end': {
        const t = open.get(m.tx);
        if (!t) return undefined; // no statement ran: nothing was opened
        open.delete(m.tx);
        t.end(m.commit);
        await t.done; // COMMIT's error (or none) is the reply
        return undefined;
      }
      case 'listen':
        return inOrder(m.channel, async () => {
          if (!unlisten.has(m.channel)) unlisten.set(m.channel, await pg.listen(m.channel, (payload) => post({ kind: 'notify', channel: m.channel, payload })));
        });
      case 'unlisten':
        return inOrder(m.channel, async () => {
          const stop = unlisten.get(m.channel);
          unlisten.delete(m.channel);
          await stop?.();
        });
      case 'close':
        await pg.close();
        return undefined;
    }
  }

  port.on('message', (m: ThreadRequest) => {
    run(m).then(
      (value) => post({ kind: 'reply', id: m.id, value }),
      (err: unknown) => post({ kind: 'error', id: m.id, error: toThreadError(err) }),
    );
  });
  post({ kind: 'ready' });
}

if (parentPort) void serve();
