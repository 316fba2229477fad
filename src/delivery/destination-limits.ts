import { destinationState, type DestinationState } from '../domain/destination-capacity.js';
import type { SharedLimitRow } from '../store/sql/destination-limits.js';
import { parseRetryAfter } from './retry-policy.js';
import type { SendResult } from './send.js';

/**
 * How many requests a destination origin may have in flight from the whole fleet of
 * workers: learned, not fixed (issue 12). A fixed 8 held every busy subscription to
 * 8 / (one delivery's cycle); a fixed 64 would let one slow destination take every slot.
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
 * **Shared by the fleet.** The limit lives in the database (destination_limits); the
 * claim counts the fleet's deliveries in flight against it (store/sql/claim-deliveries.ts).
 * This class is one worker's view: the rows it learned from claims and from its own
 * changes, and the windows of answers it saw. It decides when the limit should move and
 * returns that as a `LimitChange`, which the worker applies with one atomic statement
 * (store/sql/destination-limits.ts), so two workers seeing the same overload halve once.
 * A halving is applied to the local view at once, so this worker backs off before the
 * database answers.
 */

export interface LimitPolicy {
  /** The limit of an origin not seen yet (and of one forgotten). */
  initial: number;
  /** The most it grows to (HERALD_PER_DESTINATION_CONCURRENCY). */
  ceiling: number;
}

/** A move of an origin's shared limit this worker's answers call for. */
export type LimitChange =
  | { kind: 'grow'; origin: string; from: number }
  | { kind: 'shrink'; origin: string; sentAt: number; pauseUntil?: number };

interface Origin {
  /** The shared row as last seen (undefined: none, the origin is at its start). */
  limit: number;
  slowStart: boolean;
  decreasedAt: number;
  pausedUntil: number;
  /** This worker's window: successes, and the slowest of them, ms. */
  successes: number;
  windowMaxLatency: number;
  /** The fastest success this worker saw, ms. */
  minLatency: number;
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

  private get initial(): number {
    return Math.min(this.policy.initial, this.policy.ceiling);
  }

  /** The limit of an origin without a shared row. */
  get initialLimit(): number {
    return this.initial;
  }

  get ceiling(): number {
    return this.policy.ceiling;
  }

  private get(origin: string): Origin {
    let o = this.origins.get(origin);
    if (o) {
      this.origins.delete(origin); // re-inserted: the Map's order is least recently seen first
    } else {
      o = {
        limit: this.initial,
        slowStart: true,
        decreasedAt: -Infinity,
        pausedUntil: 0,
        successes: 0,
        windowMaxLatency: 0,
        minLatency: Infinity,
      };
      if (this.origins.size >= MAX_ORIGINS) this.origins.delete(this.origins.keys().next().value!);
    }
    this.origins.set(origin, o);
    return o;
  }

  /**
   * Takes in an origin's shared row (from a claim or a change): null when it has none
   * (at its start). Returns the limit a claim may use now: 0 while paused.
   */
  learn(origin: string, row: SharedLimitRow | null, now: number): number {
    if (row === null && !this.origins.has(origin)) return this.initial;
    const o = this.get(origin);
    if (row === null) {
      o.limit = this.initial;
      o.slowStart = true;
      o.decreasedAt = -Infinity;
      o.pausedUntil = 0;
    } else {
      // A window counts answers under one limit: a limit another worker moved starts a new one.
      if (row.concurrency !== o.limit) {
        o.successes = 0;
        o.windowMaxLatency = 0;
      }
      o.limit = Math.min(row.concurrency, this.policy.ceiling);
      o.slowStart = row.slow_start;
      o.decreasedAt = row.decreased_at?.getTime() ?? -Infinity;
      o.pausedUntil = row.paused_until?.getTime() ?? 0;
    }
    return o.pausedUntil > now ? 0 : o.limit;
  }

  /** The origin's current limit as this worker knows it. */
  limitOf(origin: string): number {
    return this.origins.get(origin)?.limit ?? this.initial;
  }

  isPaused(origin: string, now: number): boolean {
    return (this.origins.get(origin)?.pausedUntil ?? 0) > now;
  }

  /** Origins paused by a Retry-After at `now`. */
  paused(now: number): string[] {
    const out: string[] = [];
    for (const [origin, o] of this.origins) if (o.pausedUntil > now) out.push(origin);
    return out;
  }

  /**
   * Learns from one attempt's answer; `sentAt` is when its request was sent (ms).
   * Returns the change of the shared limit it calls for, if any.
   */
  record(origin: string, signal: ReturnType<typeof capacitySignal>, sentAt: number, now: number): LimitChange | undefined {
    if (signal.kind === 'none') return undefined;
    const o = this.get(origin);
    if (signal.kind === 'ok') {
      o.minLatency = Math.min(o.minLatency, signal.latencyMs);
      o.windowMaxLatency = Math.max(o.windowMaxLatency, signal.latencyMs);
      if (++o.successes < o.limit) return undefined;
      const fast = o.windowMaxLatency <= o.minLatency * SLOW_FACTOR + SLOW_SLACK_MS;
      o.successes = 0;
      o.windowMaxLatency = 0;
      return fast && o.limit < this.policy.ceiling ? { kind: 'grow', origin, from: o.limit } : undefined;
    }
    const pauseUntil = signal.pauseMs !== undefined ? now + signal.pauseMs : undefined;
    if (pauseUntil !== undefined) o.pausedUntil = Math.max(o.pausedUntil, pauseUntil);
    // One halving per round: answers to requests sent before the last one do not count.
    if (sentAt < o.decreasedAt) return pauseUntil !== undefined ? { kind: 'shrink', origin, sentAt, pauseUntil } : undefined;
    o.limit = Math.max(1, Math.floor(o.limit / 2));
    o.slowStart = false;
    o.successes = 0;
    o.windowMaxLatency = 0;
    o.decreasedAt = now;
    return { kind: 'shrink', origin, sentAt, ...(pauseUntil !== undefined ? { pauseUntil } : {}) };
  }

  /** Each origin's limit and state, for metrics: those that left their starting point. */
  snapshot(now: number): { origin: string; limit: number; state: DestinationState }[] {
    const moved = [...this.origins].filter(([, o]) => o.limit !== this.initial || !o.slowStart || o.pausedUntil > now);
    return moved.map(([origin, o]) => ({ origin, limit: o.limit, state: destinationState(o, this.policy.ceiling, now) }));
  }
}
