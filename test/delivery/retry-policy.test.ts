import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ORIGINAL_RETRY_SCHEDULE, parseRetrySchedule } from '../../src/config.js';
import { decideRetry, parseRetryAfter } from '../../src/delivery/retry-policy.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const HOUR = 3600_000;
const mid = () => 0.5; // no jitter

describe('decideRetry', () => {
  it('takes the delay before retry n from schedule[n-1]', () => {
    const schedule = [60, 60, 600];
    const delays = [1, 2, 3].map((n) => decideRetry({ schedule, attemptsMade: n, now: NOW, random: mid }));
    assert.deepEqual(delays, [
      { kind: 'retry', at: new Date(NOW.getTime() + 60_000), delayMs: 60_000 },
      { kind: 'retry', at: new Date(NOW.getTime() + 60_000), delayMs: 60_000 },
      { kind: 'retry', at: new Date(NOW.getTime() + 600_000), delayMs: 600_000 },
    ]);
  });
  it('is exhausted after schedule.length retries ("60,60,600": one attempt, at most three retries)', () => {
    assert.deepEqual(decideRetry({ schedule: [60, 60, 600], attemptsMade: 4, now: NOW }), { kind: 'exhausted' });
    assert.deepEqual(decideRetry({ schedule: [], attemptsMade: 1, now: NOW }), { kind: 'exhausted' });
  });
  it('follows the original schedule: 10 x 60 s, 9 x 600 s, then hourly, about 70 h in all', () => {
    const delays: number[] = [];
    for (let n = 1; ; n++) {
      const d = decideRetry({ schedule: ORIGINAL_RETRY_SCHEDULE, attemptsMade: n, now: NOW, random: mid });
      if (d.kind === 'exhausted') break;
      delays.push(d.delayMs);
    }
    assert.equal(delays.length, ORIGINAL_RETRY_SCHEDULE.length);
    assert.deepEqual(delays.slice(0, 11), [...Array<number>(10).fill(60_000), 600_000]);
    const totalHours = delays.reduce((a, b) => a + b, 0) / HOUR;
    assert.ok(totalHours > 69 && totalHours < 72, `${totalHours} h`);
  });
  it('jitters by at most ±10%', () => {
    const at = (r: number) => decideRetry({ schedule: [100], attemptsMade: 1, now: NOW, random: () => r });
    assert.deepEqual(at(0), { kind: 'retry', at: new Date(NOW.getTime() + 90_000), delayMs: 90_000 });
    assert.equal((at(0.999999) as { delayMs: number }).delayMs, 110_000);
    assert.equal((at(0.25) as { delayMs: number }).delayMs, 95_000);
  });
  it('retries at once for a zero delay', () => {
    assert.deepEqual(decideRetry({ schedule: [0], attemptsMade: 1, now: NOW }), { kind: 'retry', at: NOW, delayMs: 0 });
  });
  it('rejects a nonsensical attempt count', () => {
    for (const n of [0, -1, 1.5, NaN]) assert.throws(() => decideRetry({ schedule: [1], attemptsMade: n, now: NOW }), RangeError);
  });

  describe('Retry-After', () => {
    const retry = (retryAfter: string | null, schedule = [60]) =>
      decideRetry({ schedule, attemptsMade: 1, now: NOW, retryAfter, random: mid });
    const delay = (d: ReturnType<typeof retry>) => (d.kind === 'retry' ? d.delayMs : -1);

    it('is honoured in seconds when longer than the scheduled delay', () => assert.equal(delay(retry('120')), 120_000));
    it('is ignored when shorter', () => assert.equal(delay(retry('5')), 60_000));
    it('is capped at one hour', () => assert.equal(delay(retry('86400')), HOUR));
    it('may reach the scheduled delay when that is over an hour', () => {
      assert.equal(delay(retry('100000', [7200])), 7200_000);
      assert.equal(delay(retry('3', [7200])), 7200_000);
    });
    it('is honoured as an HTTP date', () => {
      assert.equal(delay(retry(new Date(NOW.getTime() + 300_000).toUTCString())), 300_000);
      assert.equal(delay(retry('Thu, 01 Jan 2026 00:10:00 GMT')), 600_000);
      assert.equal(delay(retry('Wed, 31 Dec 2025 23:00:00 GMT')), 60_000); // in the past
    });
    it('is ignored when unreadable or absent', () => {
      for (const v of [null, '', 'soon', '-5', '1.5', '12abc']) assert.equal(delay(retry(v)), 60_000, String(v));
    });
    it('does not revive an exhausted schedule', () => {
      assert.deepEqual(decideRetry({ schedule: [60], attemptsMade: 2, now: NOW, retryAfter: '10' }), { kind: 'exhausted' });
    });
  });

  describe('properties', () => {
    const schedule = fc.array(fc.nat(7 * 24 * 3600), { maxLength: 100 });
    const retryAfter = fc.option(
      fc.oneof(fc.nat(10 * 24 * 3600).map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.string()),
    );
    const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

    it('retries exactly schedule.length times, each within ±10% or the Retry-After bounds', () => {
      fc.assert(
        fc.property(schedule, fc.integer({ min: 1, max: 120 }), retryAfter, random, (s, n, ra, r) => {
          const d = decideRetry({ schedule: s, attemptsMade: n, now: NOW, retryAfter: ra, random: () => r });
          if (n > s.length) return d.kind === 'exhausted';
          if (d.kind !== 'retry') return false;
          const scheduled = s[n - 1]! * 1000;
          assert.equal(d.at.getTime() - NOW.getTime(), d.delayMs);
          assert.ok(Number.isInteger(d.delayMs) && d.delayMs >= 0);
          assert.ok(d.delayMs >= Math.floor(scheduled * 0.9), `${d.delayMs} < 90% of ${scheduled}`);
          assert.ok(d.delayMs <= Math.max(Math.ceil(scheduled * 1.1), HOUR), `${d.delayMs} over the bounds for ${scheduled}`);
          if (ra === null) assert.ok(d.delayMs <= Math.ceil(scheduled * 1.1));
          return true;
        }),
        { numRuns: 5_000 },
      );
    });
    it('an unbounded number of failures always ends (every schedule from config is finite)', () => {
      fc.assert(
        fc.property(fc.array(fc.nat(604_800), { maxLength: 50 }), (s) => {
          const parsed = parseRetrySchedule(s.join(','));
          let n = 1;
          while (decideRetry({ schedule: parsed, attemptsMade: n, now: NOW }).kind === 'retry') n++;
          return n === parsed.length + 1;
        }),
      );
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter(' 30 ', NOW), 30_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', NOW), 30_000);
    assert.equal(parseRetryAfter('nonsense', NOW), undefined);
  });
});
