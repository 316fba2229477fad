import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capacitySignal, DestinationLimits } from '../../src/delivery/destination-limits.js';
import type { SendResult } from '../../src/delivery/send.js';

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

/** n successes answered at `t`, each sent just before. */
function succeed(l: DestinationLimits, n: number, t: number, latencyMs = 5): void {
  for (let i = 0; i < n; i++) l.record(O, capacitySignal(ok(latencyMs), now), t - 1, t);
}

describe('learned per-destination limits', () => {
  it('start at 8 and double after each window of fast successes, up to the ceiling', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    assert.equal(l.limitOf(O), 8);
    succeed(l, 7, 1);
    assert.equal(l.limitOf(O), 8, 'a window is `limit` answers');
    succeed(l, 1, 2);
    assert.equal(l.limitOf(O), 16);
    succeed(l, 16, 3);
    assert.equal(l.limitOf(O), 32);
    succeed(l, 1000, 4);
    assert.equal(l.limitOf(O), 32, 'never past the ceiling');
  });

  it('halve on overload, once per round, then grow by one per window', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 64 });
    succeed(l, 8 + 16, 10); // 32
    assert.equal(l.limitOf(O), 32);
    l.record(O, capacitySignal(status(503), now), 19, 20);
    assert.equal(l.limitOf(O), 16);
    // The other requests of the same round fail too: no second halving.
    for (let i = 0; i < 10; i++) l.record(O, capacitySignal(status(503), now), 19, 21);
    assert.equal(l.limitOf(O), 16);
    // A request sent after the halving that fails again: halved again.
    l.record(O, capacitySignal({ ok: false, errorClass: 'timeout', message: 't', latencyMs: 10_000 }, now), 22, 30);
    assert.equal(l.limitOf(O), 8);
    succeed(l, 8, 40);
    assert.equal(l.limitOf(O), 9, 'additive increase after an overload');
    for (const s of [429, 502, 504]) assert.equal(capacitySignal(status(s), now).kind, 'overloaded');
    assert.equal(capacitySignal({ ok: false, errorClass: 'connect', message: 'refused', latencyMs: 1 }, now).kind, 'overloaded');
  });

  it('go down to one request at a time, not zero', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    for (let t = 1; t < 20; t++) l.record(O, capacitySignal(status(502), now), t, t);
    assert.equal(l.limitOf(O), 1);
  });

  it('do not grow while answers come much slower than the fastest seen', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    succeed(l, 8, 1, 5); // 16, fastest 5 ms
    succeed(l, 16, 2, 400); // a queue builds at the receiver
    assert.equal(l.limitOf(O), 16);
    succeed(l, 16, 3, 8);
    assert.equal(l.limitOf(O), 32);
  });

  it('leave the limit alone on failures that say nothing about capacity', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    for (const r of [status(400), status(500), status(404), { ok: false as const, errorClass: 'tls' as const, message: 'x', latencyMs: 1 }]) {
      assert.equal(capacitySignal(r, now).kind, 'none');
      l.record(O, capacitySignal(r, now), 1, 2);
    }
    assert.equal(l.limitOf(O), 8);
  });

  it('pause the whole destination for a Retry-After on 429 or 503', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    const t = now.getTime();
    l.record(O, capacitySignal(status(429, '30'), now), t, t);
    assert.deepEqual(l.paused(t + 29_999), [O]);
    assert.deepEqual(l.paused(t + 30_000), []);
    const date = new Date(t + 120_000).toUTCString();
    l.record(O, capacitySignal(status(503, date), now), t, t);
    assert.deepEqual(l.paused(t + 119_000), [O]);
    assert.equal(capacitySignal(status(502, '30'), now).kind === 'overloaded' && 'pauseMs' in capacitySignal(status(502, '30'), now), false, 'a 502 names no pause');
    assert.deepEqual(capacitySignal(status(429, '999999'), now), { kind: 'overloaded', pauseMs: 3_600_000 }, 'at most an hour');
  });

  it('tell the claim only the limits it learned', () => {
    const l = new DestinationLimits({ initial: 8, ceiling: 32 });
    l.record('https://a.example', capacitySignal(ok(), now), 0, 1);
    succeed(l, 8, 2);
    assert.deepEqual(l.learned(), { origins: [O], limits: [16] });
  });
});
