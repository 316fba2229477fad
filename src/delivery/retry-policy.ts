/**
 * When to try a failed delivery again: the one place that turns the retry schedule
 * (HERALD_RETRY_SCHEDULE, data), jitter and a receiver's Retry-After into a time.
 */

/** What to do after a failed attempt. */
export type RetryDecision = { kind: 'retry'; at: Date; delayMs: number } | { kind: 'exhausted' };

/** Spread retries by ±10% so that deliveries failed together do not return together. */
const JITTER = 0.1;
/** A Retry-After may push a retry past the schedule, but by at most this (or the scheduled delay, if longer). */
const RETRY_AFTER_CAP_MS = 3600_000;

/** Milliseconds a Retry-After header asks for (delta seconds or an HTTP date), or undefined if unreadable. */
export function parseRetryAfter(value: string, now: Date): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only dates, not stray numbers like "1.5" or "-3", which Date.parse would accept.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * Decides the retry after `attemptsMade` attempts (1 after the first): the delay
 * before retry n is schedule[n-1] seconds ±10%; after schedule.length retries the
 * schedule is exhausted. A Retry-After longer than that delay wins, capped at
 * max(scheduled delay, 1 hour).
 */
export function decideRetry(input: {
  schedule: readonly number[];
  attemptsMade: number;
  now: Date;
  retryAfter?: string | null;
  random?: () => number;
}): RetryDecision {
  const { schedule, attemptsMade, now } = input;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a positive integer, got ${attemptsMade}`);
  }
  if (attemptsMade > schedule.length) return { kind: 'exhausted' };
  const scheduledMs = schedule[attemptsMade - 1]! * 1000;
  const random = input.random ?? Math.random;
  let delayMs = Math.max(0, Math.round(scheduledMs * (1 + JITTER * (2 * random() - 1))));
  const asked = input.retryAfter ? parseRetryAfter(input.retryAfter, now) : undefined;
  if (asked !== undefined && asked > delayMs) {
    delayMs = Math.min(asked, Math.max(scheduledMs, RETRY_AFTER_CAP_MS));
  }
  return { kind: 'retry', at: new Date(now.getTime() + delayMs), delayMs };
}
