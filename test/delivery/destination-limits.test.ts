import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { capacitySignal, DestinationLimits, type LimitChange } from '../../src/delivery/destination-limits.js';
import type { SendResult } from '../../src/delivery/send.js';
import type { Db } from '../../src/store/db.js';
import { growLimit, shrinkLimit } from '../../src/store/sql/destination-limits.js';
import { testDatabases, type TestDb } from '../helpers/db.js';

const O = 'https://hooks.example.com';
const ok = (latencyMs = 5): SendResult => ({ ok: true, status: 200, latencyMs, excerpt: '' });
const status = (s: number, retryAfter?: string): SendResult => ({
  ok: false,
  errorClass: 'http_status',
  status: s,
  message: `${s}`,
  latencyMs: 5,
  ...(retryAfter !== undefined ? { retryAfter } : {}),
});
const now = new Date(Date.UTC(2026, 10, 25));

/**
 * The limits as one worker runs them: its answers call for changes, which go to the
 * shared row through the store's statements, and it learns the row back.
 */
class Worker {
  readonly l: DestinationLimits;
  constructor(
    private readonly db: Db,
    policy = { initial: 8, ceiling: 32 },
  ) {
    this.l = new DestinationLimits(policy);
  }

  async answer(result: SendResult, sentAt: number, at: number, origin = O): Promise<LimitChange | undefined> {
    const change = this.l.record(origin, capacitySignal(result, new Date(at)), sentAt, at);
    if (!change) return undefined;
    const row =
      change.kind === 'grow'
        ? await growLimit(this.db, { origin, from: change.from, ceiling: this.l.ceiling, now: new Date(at) })
        : await shrinkLimit(this.db, {
            origin,
            initial: this.l.initialLimit,
            now: new Date(at),
            sentAt: new Date(change.sentAt),
            pauseUntil: change.pauseUntil !== undefined ? new Date(change.pauseUntil) : null,
          });
    if (row) this.l.learn(origin, row, at);
    return change;
  }

  /** n successes answered at `t`, each sent just before. */
  async succeed(n: number, t: number, latencyMs = 5): Promise<void> {
    for (let i = 0; i < n; i++) await this.answer(ok(latencyMs), t - 1, t);
  }
}

describe('what an answer says about capacity', () => {
  it('overload: 429, 502, 503, 504, timeouts, refused connections; a pause only from 429/503 with Retry-After, at most an hour', () => {
    for (const code of [429, 502, 503, 504]) assert.equal(capacitySignal(status(code), now).kind, 'overloaded');
    assert.equal(capacitySignal({ ok: false, errorClass: 'connect', message: 'refused', latencyMs: 1 }, now).kind, 'overloaded');
    assert.equal(capacitySignal({ ok: false, errorClass: 'timeout', message: 't', latencyMs: 1 }, now).kind, 'overloaded');
    assert.deepEqual(capacitySignal(status(502, '30'), now), { kind: 'overloaded' }, 'a 502 names no pause');
    assert.deepEqual(capacitySignal(status(429, '30'), now), { kind: 'overloaded', pauseMs: 30_000 });
    assert.deepEqual(capacitySignal(status(429, '999999'), now), { kind: 'overloaded', pauseMs: 3_600_000 });
  });

  it('nothing from failures that say nothing about capacity', () => {
    for (const r of [status(400), status(500), status(404), { ok: false as const, errorClass: 'tls' as const, message: 'x', latencyMs: 1 }]) {
      assert.equal(capacitySignal(r, now).kind, 'none');
    }
  });
});

for (const backend of testDatabases()) {
  describe(`learned per-destination limits, shared in the database: ${backend.name}`, () => {
    let t: TestDb;
    before(async () => {
      t = await backend.open();
    });
    after(() => t.dispose());
    const limitIn = async (origin = O) =>
      (await t.db.query<{ concurrency: number }>('select concurrency from destination_limits where origin = $1', [origin])).rows[0]?.concurrency;

    it('start at 8 and double after each window of fast successes, up to the ceiling', async () => {
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db);
      assert.equal(w.l.limitOf(O), 8);
      await w.succeed(7, 1);
      assert.equal(w.l.limitOf(O), 8, 'a window is `limit` answers');
      assert.equal(await limitIn(), undefined, 'an origin at its start has no row');
      await w.succeed(1, 2);
      assert.equal(w.l.limitOf(O), 16);
      assert.equal(await limitIn(), 16, 'shared');
      await w.succeed(16, 3);
      assert.equal(w.l.limitOf(O), 32);
      await w.succeed(1000, 4);
      assert.equal(w.l.limitOf(O), 32, 'never past the ceiling');
      assert.equal(await limitIn(), 32);
    });

    it('halve on overload, once per round, then grow by one per window', async () => {
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db, { initial: 8, ceiling: 64 });
      await w.succeed(8 + 16, 10); // 32
      assert.equal(w.l.limitOf(O), 32);
      await w.answer(status(503), 19, 20);
      assert.equal(w.l.limitOf(O), 16);
      // The other requests of the same round fail too: no second halving.
      for (let i = 0; i < 10; i++) await w.answer(status(503), 19, 21);
      assert.equal(w.l.limitOf(O), 16);
      assert.equal(await limitIn(), 16);
      // A request sent after the halving that fails again: halved again.
      await w.answer({ ok: false, errorClass: 'timeout', message: 't', latencyMs: 10_000 }, 22, 30);
      assert.equal(w.l.limitOf(O), 8);
      await w.succeed(8, 40);
      assert.equal(w.l.limitOf(O), 9, 'additive increase after an overload');
      assert.equal(await limitIn(), 9);
    });

    it('two workers share one limit: the same overload halves it once, the same window grows it once', async () => {
      await t.db.query('delete from destination_limits');
      const a = new Worker(t.db);
      const b = new Worker(t.db);
      await a.succeed(8, 1); // 16
      assert.equal(await limitIn(), 16);
      // b learns the row from its next claim (here: directly).
      const row = (await t.db.query('select * from destination_limits where origin = $1', [O])).rows[0] as never;
      b.l.learn(O, row, 2);
      assert.equal(b.l.limitOf(O), 16);
      // Both see overload answers to requests of the same round (sent at 5).
      await a.answer(status(503), 5, 10);
      await b.answer(status(503), 5, 11);
      assert.equal(await limitIn(), 8, 'halved once, not twice');
      // Both finish a window of fast successes under the same limit (8).
      a.l.learn(O, (await t.db.query('select * from destination_limits where origin = $1', [O])).rows[0] as never, 12);
      b.l.learn(O, (await t.db.query('select * from destination_limits where origin = $1', [O])).rows[0] as never, 12);
      await a.succeed(8, 20);
      await b.succeed(8, 20);
      assert.equal(await limitIn(), 9, 'grown once (+1 after an overload), not twice');
      assert.equal(b.l.limitOf(O), 9, 'the loser learns the winner\'s limit');
    });

    it('go down to one request at a time, not zero', async () => {
      const origin = 'https://probed.example';
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db);
      for (let s = 1; s < 20; s++) await w.answer(status(502), s, s, origin);
      assert.equal(w.l.limitOf(origin), 1);
      assert.equal(await limitIn(origin), 1);
    });

    it('do not grow while answers come much slower than the fastest seen', async () => {
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db);
      await w.succeed(8, 1, 5); // 16, fastest 5 ms
      await w.succeed(16, 2, 400); // a queue builds at the receiver
      assert.equal(w.l.limitOf(O), 16);
      await w.succeed(16, 3, 8);
      assert.equal(w.l.limitOf(O), 32);
    });

    it('pause the whole destination for a Retry-After on 429 or 503, shared with the fleet', async () => {
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db);
      const at = now.getTime();
      await w.answer(status(429, '30'), at, at);
      assert.deepEqual(w.l.paused(at + 29_999), [O]);
      assert.deepEqual(w.l.paused(at + 30_000), []);
      const row = (await t.db.query<{ paused_until: Date }>('select paused_until from destination_limits where origin = $1', [O])).rows[0]!;
      assert.equal(row.paused_until.getTime(), at + 30_000);
      const other = new Worker(t.db);
      assert.equal(other.l.learn(O, (await t.db.query('select * from destination_limits where origin = $1', [O])).rows[0] as never, at + 1), 0, 'another worker claims nothing there');
      const date = new Date(at + 120_000).toUTCString();
      await w.answer(status(503, date), at, at);
      assert.deepEqual(w.l.paused(at + 119_000), [O], 'a later Retry-After extends the pause');
    });

    it('report the origins that left their start, with their state', async () => {
      await t.db.query('delete from destination_limits');
      const w = new Worker(t.db);
      await w.answer(ok(), 0, 1, 'https://a.example');
      await w.succeed(8, 2);
      assert.deepEqual(w.l.snapshot(3), [{ origin: O, limit: 16, state: 'growing' }]);
      await w.answer(status(503), 3, 4);
      assert.deepEqual(w.l.snapshot(5), [{ origin: O, limit: 8, state: 'backing-off' }]);
    });
  });
}
