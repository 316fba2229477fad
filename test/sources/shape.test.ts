// The shape comparer the spec-conformance tests rely on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shapeDifferences, shapeOf } from '../helpers/shape.js';

describe('shapeOf / shapeDifferences', () => {
  it('tells strings apart by format', () => {
    assert.deepEqual(shapeOf({ a: '24134200-fb65-11e7-8b46-39368d314702', b: '2018-01-17T09:02:27.423+0000', c: '10', d: 'SEK' }), {
      a: 'string:uuid',
      b: 'string:spec-timestamp',
      c: 'string:decimal',
      d: 'string:text',
    });
  });

  it('matches same keys, types and formats; values may differ', () => {
    assert.deepEqual(shapeDifferences({ x: 1, y: ['a'], z: { t: '2020-11-10T15:02:10Z' } }, { y: ['b', 'c'], x: 2.5, z: { t: '2021-01-01T00:00:00Z' } }), []);
  });

  it('reports missing and extra keys, type and format changes, with paths', () => {
    const d = shapeDifferences(
      { a: 1, extra: true, n: { q: 1 }, list: [{ b: '2018-01-17T09:02:27Z' }] },
      { a: 1, missing: 'x', n: { q: '1' }, list: [{ b: '2018-01-17T09:02:27.423+0000' }] },
    );
    assert.deepEqual(d.sort(), [
      '$.extra: not in the spec',
      '$.list[0].b: string:iso-utc-seconds where the spec has string:spec-timestamp',
      '$.missing: missing',
      '$.n.q: number where the spec has string:decimal',
    ]);
  });

  it('an empty array matches any array, and null is its own type', () => {
    assert.deepEqual(shapeDifferences({ d: [] }, { d: [{ a: 1 }] }), []);
    assert.deepEqual(shapeDifferences({ d: [{ a: 1 }] }, { d: [] }), []);
    assert.deepEqual(shapeDifferences({ d: null }, { d: {} }), ['$.d: null where the spec has object']);
  });
});
