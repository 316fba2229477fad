/**
 * The wire formats of the spec's payloads, written once.
 *
 * - Product, inventory and purchase payloads carry `2018-01-17T09:02:27.423+0000`
 *   (milliseconds, numeric offset without a colon); Herald always writes UTC, `+0000`.
 * - The Inventory API (payment terminals) carries BzDates:
 *   `{"value": "2020-11-10T15:02:10Z", "offset": 0}` (UTC to the second, offset in minutes).
 * - Inventory balances and purchase quantities are decimal numbers written as strings
 *   (`"10"`, `"1"`, `"0.5"`), never with trailing zeros or exponent.
 */

/** `2018-01-17T09:02:27.423+0000`, in UTC. */
export function formatSpecTimestamp(at: Date): string {
  return at.toISOString().replace(/Z$/, '+0000');
}

/** Matches what formatSpecTimestamp writes (any offset, as the spec shows it). */
export const SPEC_TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}[+-]\\d{4}$';

/** A BzDate of the Inventory API. */
export interface BzDate {
  value: string;
  offset: number;
}

/** `{"value": "2020-11-10T15:02:10Z", "offset": 0}`: UTC, to the second. */
export function toBzDate(at: Date): BzDate {
  return { value: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), offset: 0 };
}

export const BZ_DATE_VALUE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$';

/** A decimal number as the spec writes balances and quantities: `"10"`, `"-2"`, `"0.5"`. */
export const DECIMAL_PATTERN = '^-?\\d+(\\.\\d+)?$';

/**
 * The canonical string of a decimal (PostgreSQL `numeric` text or client input):
 * no trailing fractional zeros, no leading zeros, no `-0`. `"10.000"` -> `"10"`.
 */
export function canonicalDecimal(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  const int = m[2]!.replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return m[1] && body !== '0' ? `-${body}` : body;
}
