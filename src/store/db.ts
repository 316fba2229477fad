/**
 * The one database interface Herald's code talks to. Two drivers implement it:
 * PGlite (embedded, in-process) and PostgreSQL (pg pool). Both speak the same SQL
 * and return rows parsed the same way (int8 as number, timestamptz as Date,
 * jsonb as objects, numeric as string); the store conformance suite holds them to it.
 */

export interface QueryResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted by the statement. */
  rowCount: number;
}

/** Something that runs one parameterized statement: the database or a transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

/** The handle a transaction body gets: statements plus scripts, all in the transaction. */
export interface Tx extends Queryable {
  exec(sql: string): Promise<void>;
  /**
   * Wakes the listeners of `channel` once this transaction commits (never if it rolls
   * back). Wake-ups are coalesced: PostgreSQL sends one NOTIFY per event-loop turn for
   * all transactions that asked, PGlite calls its in-process listeners directly.
   */
  notifyOnCommit(channel: string): void;
}

export type DbKind = 'pglite' | 'postgres';

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Subscribes to a channel: NOTIFY sent by SQL (arriving after its transaction commits,
   * on either driver) and wake-ups from notifyOnCommit. Returns the function that unsubscribes.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
