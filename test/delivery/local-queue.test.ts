// The local queue's rules (src/delivery/local-queue.ts): which queued delivery a freed
// slot starts, which wait, which go back to the database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalQueue, verdict, type SlotFacts } from '../../src/delivery/local-queue.js';

const d = (id: number, origin: string) => ({ id, destination_origin: origin });
const facts: SlotFacts = { now: 1_000_000, attemptMs: 11_000, paused: false, inflight: 0, limit: 8 };

describe('local queue', () => {
  it('starts a delivery whose origin has room, inside its lease', () => {
    assert.equal(verdict(facts.now + 60_000, facts), 'start');
  });

  it('hands back a delivery with too little lease left for an attempt to finish inside it', () => {
    assert.equal(verdict(facts.now + 11_000, facts), 'start');
    assert.equal(verdict(facts.now + 10_999, facts), 'return');
    assert.equal(verdict(facts.now - 1, facts), 'return');
  });

  it('hands back a paused destination, and keeps one at its limit waiting', () => {
    assert.equal(verdict(facts.now + 60_000, { ...facts, paused: true }), 'return');
    assert.equal(verdict(facts.now + 60_000, { ...facts, inflight: 8 }), 'wait');
  });

  it('takes in claim order, skipping the waiting and removing what goes back', () => {
    const q = new LocalQueue<ReturnType<typeof d>>();
    q.push([d(1, 'a'), d(2, 'b'), d(3, 'c'), d(4, 'a')], 0);
    assert.deepEqual([...q.origins()], [['a', 2], ['b', 1], ['c', 1]]);
    const rule = (x: { delivery: ReturnType<typeof d> }) => (x.delivery.destination_origin === 'a' ? 'wait' : x.delivery.destination_origin === 'b' ? 'return' : 'start');
    const first = q.take(rule);
    assert.deepEqual(first, { start: d(3, 'c'), returned: [d(2, 'b')] });
    assert.equal(q.length, 2);
    assert.deepEqual([...q.origins()], [['a', 2]]);
    assert.deepEqual(q.take(rule), { returned: [] });
    assert.deepEqual(q.take(() => 'start'), { start: d(1, 'a'), returned: [] });
    assert.deepEqual(q.clear(), [d(4, 'a')]);
    assert.equal(q.length, 0);
    assert.deepEqual([...q.origins()], []);
  });
});
