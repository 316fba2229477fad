// The wire formats of the business payloads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalDecimal, formatSpecTimestamp, toBzDate } from '../../src/domain/formats.js';

describe('formats', () => {
  it('spec timestamps: milliseconds and +0000', () => {
    assert.equal(formatSpecTimestamp(new Date(1516179747754)), '2018-01-17T09:02:27.754+0000');
    assert.equal(formatSpecTimestamp(new Date(Date.UTC(2018, 0, 16, 12, 2, 16, 0))), '2018-01-16T12:02:16.000+0000');
  });

  it('BzDates: UTC to the second, offset 0', () => {
    assert.deepEqual(toBzDate(new Date(Date.UTC(2020, 10, 10, 15, 2, 10, 999))), { value: '2020-11-10T15:02:10Z', offset: 0 });
  });

  it('canonical decimals: no trailing zeros, no leading zeros, no -0', () => {
    for (const [i, o] of [['10.000', '10'], ['0010', '10'], ['-0.0', '0'], ['3.50', '3.5'], ['-2.25', '-2.25'], ['0', '0'], ['0.05', '0.05']]) {
      assert.equal(canonicalDecimal(i!), o, i);
    }
    assert.throws(() => canonicalDecimal('1e3'));
  });

  it('property: canonicalDecimal keeps the value and is idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }), (n, scale, pad) => {
        const s = (n / 10 ** scale).toFixed(scale + pad);
        const c = canonicalDecimal(s);
        assert.equal(Number(c), Number(s));
        assert.equal(canonicalDecimal(c), c);
        assert.doesNotMatch(c, /\.\d*0$|^-?0\d|^-0$/);
      }),
    );
  });
});
