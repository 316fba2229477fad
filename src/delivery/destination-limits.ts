import { parseRetryAfter } from './retry-policy.js';
import type { SendResult } from './send.js';

/**
 * How many requests a destination origin may have in flight from this worker: learned,
 * not fixed (issue 12). A fixed 8 held every busy subscription to 8 / (one delivery's
 * cycle); a fixed 64 would let one slow destination take every slot.
 *
 * - **Grow while it answers fast and 2xx.** Slow start from `initial`: the limit doubles
 *   after each window of `limit` successes, up to `ceiling`; after the first sign of
 *   overload it grows by one per window instead (AIMD). A window whose answers came much
 *   slower than the fastest seen (a queue building up at the receiver) does not grow it.
 * - **Back off on overload:** 429, 502, 503, 504, timeouts and refused connections halve
 *   the limit (down to 1: probed one request at a time until it recovers), at most once
 *   per round of requests (answers to requests sent before the last halving do not halve
 *   again).
 * - **Honour Retry-After for the whole destination:** a 429 or 503 with Retry-After
 *   pauses every delivery to that origin until then, not only the one message.
 * - Other failures (a 400, a 500, a bad TLS certificate) say nothing about capacity and
 *   leave the limit as it is.
 *
 * The state is this process's (the claim gets each origin's limit); sharing it across a
 * fleet of workers in the database is the part of issue 12 still to build.
 */

export interface LimitPolicy {
  /** The limit of an origin not seen yet (and of one forgotten). */
  initial: number;
  /** The most it grows to (HERALD_PER_DESTINATION_CONCURRENCY). */
  ceiling: number;
}

export type DestinationState = 'growing' | 'steady' | 'backing-off' | 'paused';

interface Origin {
  limit: number;
  slowStart: boolean;
  successes: number;
  /** The window's slowest success, ms. */
  windowMaxLatency: number;
  /** The fastest success seen, ms. */
  minLatency: number;
  lastDecreaseAt: number;
  pausedUntil: number;
  lastSeen: number;
}

/** Origins remembered; past it, the least recently seen is forgotten (and starts again at `initial`). */
const MAX_ORIGINS = 10_000;
/** Longest pause a Retry-After can impose on a destination. */
const MAX_PAUSE_MS = 3_600_000;
/** A window grows the limit only if its slowest answer was at most this much slower than the fastest seen. */
const SLOW_FACTOR = 2;
const SLOW_SLACK_MS = 50;

/** What an attempt's result says about the destination's capacity. */
export function capacitySignal(result: SendResult, now: Date): { kind: 'ok'; latencyMs: number } | { kind: 'overloaded'; pauseMs?: number } | { kind: 'none' } {
  if (result.ok) return { kind: 'ok', latencyMs: result.latencyMs };
  if (result.errorClass === 'timeout' || result.errorClass === 'connect') return { kind: 'overloaded' };
  if (result.errorClass === 'http_status' && result.status !== undefined && [429, 502, 503, 504].includes(result.status)) {
    const asked = result.retryAfter !== undefined && (result.status === 429 || result.status === 503) ? parseRetryAfter(result.retryAfter, now) : undefined;
    return asked !== undefined && asked > 0 ? { kind: 'overloaded', pauseMs: Math.min(asked, MAX_PAUSE_MS) } : { kind: 'overloaded' };
  }
  return { kind: 'none' };
}

export class DestinationLimits {
  private readonly origins = new Map<string, Origin>();

  constructor(private readonly policy: LimitPolicy) {}

  private get(origin: string, now: number): Origin {
    let o = this.origins.get(origin);
    if (o) {
      this.origins.delete(origin); // re-inserted: the Map's order is least recently seen first
    } else {
      o = {
        limit: Math.min(this.policy.initial, this.policy.ceiling),
        slowStart: true,
        successes: 0,
        windowMaxLatency: 0,
        minLatency: Infinity,
        lastDecreaseAt: -Infinity,
        pausedUntil: 0,
        lastSeen: now,
      };
      if (this.origins.size >= MAX_ORIGINS) this.origins.delete(this.origins.keys().next().value!);
    }
    o.lastSeen = now;
    this.origins.set(origin, o);
    return o;
  }

  /** The origin's current limit. */
  limitOf(origin: string): number {
    return this.origins.get(origin)?.limit ?? Math.min(this.policy.initial, this.policy.ceiling);
  }

  /** Origins paused by a Retry-After at `now`. */
  paused(now: number): string[] {
    const out: string[] = [];
    for (const [origin, o] of this.origins) if (o.pausedUntil > now) out.push(origin);
    return out;
  }

  /** Origins whose limit differs from the initial one, with it (the claim needs them). */
  learned(): { origins: string[]; limits: number[] } {
    const origins: string[] = [];
    const limits: number[] = [];
    const initial = Math.min(this.policy.initial, this.policy.ceiling);
    for (const [origin, o] of this.origins) {
      if (o.limit !== initial) {
        origins.push(origin);
        limits.push(o.limit);
      }
    }
    return { origins, limits };
  }

  /** Learns from one attempt's answer; `startedAt` is when its request was sent (ms). */
  record(origin: string, signal: ReturnType<typeof capacitySignal>, startedAt: number, now: number): void {
    if (signal.kind === 'none') return;
    const o = this.get(origin, now);
    if (signal.kind === 'ok') {
      o.minLatency = Math.min(o.minLatency, signal.latencyMs);
      o.windowMaxLatency = Math.max(o.windowMaxLatency, signal.latencyMs);
      if (++o.successes < o.limit) return;
      const fast = o.windowMaxLatency <= o.minLatency * SLOW_FACTOR + SLOW_SLACK_MS;
      if (fast) o.limit = Math.min(this.policy.ceiling, o.slowStart ? o.limit * 2 : o.limit + 1);
      o.successes = 0;
      o.windowMaxLatency = 0;
      return;
    }
    if (signal.pauseMs !== undefined) o.pausedUntil = Math.max(o.pausedUntil, now + signal.pauseMs);
    // One halving per round: answers to requests sent before the last one do not count.
    if (startedAt < o.lastDecreaseAt) return;
    o.limit = Math.max(1, Math.floor(o.limit / 2));
    o.slowStart = false;
    o.successes = 0;
    o.windowMaxLatency = 0;
    o.lastDecreaseAt = now;
  }

  /** Each origin's limit and state, for metrics: those that left their starting point. */
  snapshot(now: number): { origin: string; limit: number; state: DestinationState }[] {
    const initial = Math.min(this.policy.initial, this.policy.ceiling);
    const moved = [...this.origins].filter(([, o]) => o.limit !== initial || !o.slowStart || o.pausedUntil > now);
    return moved.map(([origin, o]) => ({
      origin,
      limit: o.limit,
      state: o.pausedUntil > now ? 'paused' : o.slowStart ? 'growing' : o.lastDecreaseAt > -Infinity && o.limit < this.policy.ceiling ? 'backing-off' : 'steady',
    }));
  }
}
