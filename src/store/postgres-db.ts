import pg from 'pg';
import { HeraldError } from '../errors.js';
import type { Db, QueryResult, Tx } from './db.js';

// Parse int8 (counts, sums) to number as PGlite does; Herald's int8 values stay far
// below 2^53. Types are per pool, never the pg module's global parsers.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes and codes that mean the server or the connection went away, not the statement. */
const CONNECTION_SQLSTATE = /^(08|57P0[1-3]|53300)/;
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error says the database is away (restart, failover, network cut) rather
 * than that a statement failed: such a request is answered 503, and retried by a client.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || CONNECTION_CODES.has(code))) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed|connection (?:is )?closed/i.test(
    err.message,
  );
}

/** The error a caller sees: "the database is unavailable" (503) for a lost connection, else the driver's. */
function classified(err: unknown): unknown {
  if (err instanceof HeraldError || !isConnectionError(err)) return err;
  return new HeraldError('unavailable', 'DATABASE_UNAVAILABLE', `the database is unavailable (${(err as Error).message}); retry shortly`);
}

function wrap(client: pg.Pool | pg.PoolClient, onCommit: Set<string>): Tx {
  return {
    notifyOnCommit(channel: string): void {
      onCommit.add(channel);
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (err) {
        throw classified(err);
      }
    },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      try {
        const r = await client.query(sql, params);
        return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
      } catch (err) {
        throw classified(err);
      }
    },
  };
}

export interface PostgresDbOptions {
  poolSize: number;
  /** Called for errors of idle connections (the server went away); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

/** A PostgreSQL server through a pg connection pool, plus one connection for LISTEN. */
export async function makePostgresDb(url: string, options: PostgresDbOptions): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize, types });
  pool.on('error', (err) => options.onIdleError?.(err));
  // Fail fast at start-up with the driver's own message (auth, unknown db, refused).
  const probe = await pool.connect();
  probe.release();

  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listenClient: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** The one LISTEN connection: connected once, however many callers ask at the same time. */
  function ensureListener(): Promise<pg.Client> {
    if (listenClient) return Promise.resolve(listenClient);
    connecting ??= (async () => {
      const client = new pg.Client({ connectionString: url, types });
      client.on('notification', (msg) => {
        for (const cb of listeners.get(msg.channel) ?? []) cb(msg.payload ?? '');
      });
      client.on('error', (err) => lost(client, err));
      client.on('end', () => lost(client));
      try {
        await client.connect();
        for (const channel of listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        client.end().catch(() => {});
        throw err;
      }
      listenClient = client;
      return client;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /**
   * The LISTEN connection went away: reconnect and re-subscribe, so lost connections do
   * not silence wake-ups. Errors of a client that is no longer the current one (pg emits
   * more than one when a backend is terminated) are ignored.
   */
  function lost(client: pg.Client, err?: Error): void {
    if (client !== listenClient) return;
    listenClient = undefined;
    client.end().catch(() => {});
    if (err) options.onIdleError?.(err);
    if (!closed) scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (reconnectTimer || closed) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureListener()
        .then(() => {
          // Wake-ups sent while disconnected were missed: wake every listener once.
          for (const set of listeners.values()) for (const cb of set) cb('');
        })
        .catch((e: Error) => {
          options.onIdleError?.(e);
          scheduleReconnect();
        });
    }, 1000);
    reconnectTimer.unref();
  }

  // NOTIFY inside each transaction serialized commits on PostgreSQL's notify-queue lock
  // (3.5 ms per publish with 16 producers). Instead, transactions that committed in
  // one event-loop turn share one NOTIFY, sent after they committed.
  const pendingWake = new Set<string>();
  let wakeScheduled = false;
  const wake = (channels: Iterable<string>) => {
    for (const c of channels) pendingWake.add(c);
    if (wakeScheduled || closed) return;
    wakeScheduled = true;
    setImmediate(() => {
      wakeScheduled = false;
      const batch = [...pendingWake];
      pendingWake.clear();
      for (const c of batch) {
        pool.query('select pg_notify($1, $2)', [c, '']).catch((err: Error) => options.onIdleError?.(err));
      }
    });
  };
  const root = wrap(pool, new Set()); // statements outside a transaction: nothing to notify on commit
  return {
    kind: 'postgres',
    query: root.query,
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw classified(err);
      }
      // A checked-out client has no listener of the pool's: without one, the server
      // going away mid-transaction ('error' on the client) would end the process.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
        options.onIdleError?.(err);
      };
      client.on('error', onError);
      const channels = new Set<string>();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client, channels));
        await client.query('COMMIT');
        if (channels.size > 0) wake(channels);
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw classified(err);
      } finally {
        client.removeListener('error', onError);
        // A client whose connection broke is destroyed, not returned to the pool.
        client.release(broken);
      }
    },
    exec: root.exec,
    async listen(channel, onNotify) {
      const client = await ensureListener();
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await connecting?.catch(() => undefined);
      await listenClient?.end().catch(() => {});
      await pool.end();
    },
  };
}
