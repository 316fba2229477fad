import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Db, QueryResult, Tx } from './db.js';
import { lockDataDir } from './data-dir-lock.js';
import { initdbInChildProcess } from './pglite-initdb.js';
import type { ThreadData, ThreadError, ThreadMessage, ThreadRequest } from './pglite-thread.js';

/** A request as the caller writes it: the id is added when it is sent. */
type Request = ThreadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Rebuilds an error from the thread, with PostgreSQL's fields (code, detail...) as the caller expects them. */
function fromThreadError(e: ThreadError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

/** Starts pglite-thread in a worker thread (from its TypeScript source when Herald runs under tsx). */
function startThread(data: ThreadData): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./pglite-thread.js', self), { workerData: data });
  // Under tsx (tests, `npm run dev`, the bench): a worker thread does not inherit its loader.
  const entry = JSON.stringify(new URL('./pglite-thread.ts', self).href);
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${entry}); })`, { eval: true, workerData: data });
}

/**
 * The embedded database: PGlite in a worker thread of its own (pglite-thread.ts), so its
 * statements do not stall Herald's event loop. dataDir null keeps everything in memory
 * (tests); otherwise the directory is locked to this process for as long as the
 * database is open, and a new one is made by initdb in a short-lived child process.
 */
export async function makePgliteDb(dataDir: string | null): Promise<Db> {
  const unlock = dataDir === null ? async () => {} : await lockDataDir(dataDir);
  const dir = dataDir === null ? undefined : `${dataDir}/pglite`;
  let thread: Worker;
  try {
    if (dir !== undefined && !existsSync(dir)) await initdbInChildProcess(dir);
    thread = startThread({ dir });
  } catch (err) {
    await unlock().catch(() => {});
    throw err;
  }

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stopped: Error | undefined;
  // The thread keeps the process alive only while a statement is waiting for it.
  const refresh = () => (pending.size > 0 ? thread.ref() : thread.unref());
  const local = new Map<string, Set<(payload: string) => void>>();
  // Each channel's LISTEN in the thread, once sent.
  const listenings = new Map<string, Promise<void>>();

  let started!: () => void;
  let failed!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  thread.on('message', (m: ThreadMessage) => {
    switch (m.kind) {
      case 'ready':
        return started();
      case 'failed':
        return failed(fromThreadError(m.error));
      case 'notify':
        for (const cb of local.get(m.channel) ?? []) cb(m.payload);
        return;
      case 'reply':
      case 'error': {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        refresh();
        if (m.kind === 'reply') p.resolve(m.value);
        else p.reject(fromThreadError(m.error));
      }
    }
  });
  const onStop = (err: Error) => {
    stopped ??= err;
    failed(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  thread.on('error', (err) => onStop(new Error(`the embedded database's thread failed: ${err.message}`, { cause: err })));
  thread.on('exit', (code) => onStop(new Error(`the embedded database's thread exited (${code})`)));

  const call = <T>(req: Request): Promise<T> => {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      refresh();
      try {
        thread.postMessage({ ...req, id });
      } catch (err) {
        // A parameter that cannot be copied to the thread.
        pending.delete(id);
        refresh();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  };

  try {
    await ready;
  } catch (err) {
    await thread.terminate().catch(() => {});
    await unlock().catch(() => {});
    throw err;
  }
  refresh();

  // PGlite lives in this process, so a wake-up is a direct call: no NOTIFY round trip.
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
  // A transaction's statements carry its id; the first also opens it (`begin`).
  let nextTx = 1;
  const handle = (tx: { id: number; begun: boolean } | undefined, onCommit: Set<string>): Tx => {
    const opening = () => {
      if (!tx || tx.begun) return false;
      tx.begun = true;
      return true;
    };
    return {
      notifyOnCommit(channel: string): void {
        onCommit.add(channel);
      },
      exec: (sql: string) => call<void>({ op: 'exec', sql, tx: tx?.id, begin: opening() }),
      query: <T>(sql: string, params?: unknown[]) => call<QueryResult<T>>({ op: 'query', sql, params, tx: tx?.id, begin: opening() }),
    };
  };
  const root = handle(undefined, new Set()); // statements outside a transaction: nothing to notify on commit
  let closed = false;
  return {
    kind: 'pglite',
    query: root.query,
    async transaction(fn) {
      const tx = { id: nextTx++, begun: false };
      const channels = new Set<string>();
      let result;
      try {
        result = await fn(handle(tx, channels));
      } catch (err) {
        if (tx.begun) await call({ op: 'end', tx: tx.id, commit: false }).catch(() => {});
        throw err;
      }
      if (tx.begun) await call({ op: 'end', tx: tx.id, commit: true });
      if (channels.size > 0) wake(channels);
      return result;
    },
    exec: root.exec,
    listen: async (channel, onNotify) => {
      let set = local.get(channel);
      if (!set) {
        const listening = new Set<(payload: string) => void>();
        local.set(channel, (set = listening));
        listenings.set(
          channel,
          call<void>({ op: 'listen', channel }).catch((err: unknown) => {
            // Not listened to: the next listen tries again.
            if (local.get(channel) === listening) local.delete(channel);
            listenings.delete(channel);
            throw err;
          }),
        );
      }
      await listenings.get(channel); // the first listener's LISTEN, whoever sent it
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
        if (set.size === 0 && local.get(channel) === set) {
          local.delete(channel);
          listenings.delete(channel);
          if (!closed) await call({ op: 'unlisten', channel });
        }
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await call({ op: 'close' });
      } finally {
        await thread.terminate().catch(() => {});
        await unlock().catch(() => {});
      }
    },
  };
}
