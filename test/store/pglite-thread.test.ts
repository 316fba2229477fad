// The embedded database runs in a thread of its own (src/store/pglite-thread.ts): a long
// statement does not stall Herald's event loop, which goes on parsing requests, signing
// and sending while PGlite works.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/store/db.js';
import { makePgliteDb } from '../../src/store/pglite-db.js';

describe('PGlite in its own thread', () => {
  let db: Db;
  before(async () => {
    db = await makePgliteDb(null);
  });
  after(() => db.close());

  it('keeps the event loop running while a statement runs', async () => {
    let done = false;
    const slow = db.query('select pg_sleep(2)').then(() => (done = true));
    // In the main thread, PGlite's WebAssembly runs the statement synchronously: no timer
    // fires until it is over. In its thread, this one fires at once.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'a timer waited for the statement: the database ran on the event loop');
    await slow;
    assert.equal(done, true);
  });

  it('keeps a transaction open across statements, and rolls it back when its body throws', async () => {
    await db.exec('create table t (n int)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await Promise.all([tx.query('insert into t values (1)'), tx.query('insert into t values (2)')]);
        const inside = await tx.query<{ n: number }>('select count(*)::int as n from t');
        assert.equal(inside.rows[0]!.n, 2);
        throw new Error('no');
      }),
      /no/,
    );
    assert.equal((await db.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n, 0);
    await db.transaction(async () => {}); // a transaction without statements opens nothing
    await db.transaction((tx) => tx.query('insert into t values (3)'));
    assert.equal((await db.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n, 1);
  });

  it('listens again at once after the last listener left (UNLISTEN and LISTEN in order)', async () => {
    const stop = await db.listen('again', () => {});
    // A transaction holds the database, so the UNLISTEN below waits in the thread.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await t.query('select 1');
      await held;
    });
    const leaving = stop(); // UNLISTEN sent, not awaited
    const heard: string[] = [];
    const listening = db.listen('again', (p) => heard.push(p));
    release();
    await tx;
    await leaving;
    const stop2 = await listening;
    await db.query(`notify again, 'hello'`);
    // (A safety net, not a budget: the NOTIFY arrives within milliseconds or never.)
    for (let i = 0; heard.length === 0 && i < 1000; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(heard, ['hello']);
    await stop2();
  });
});
