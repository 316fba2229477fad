/**
 * The vocabulary of a destination's learned concurrency limit, shared by the delivery
 * engine (which learns it) and the attempt log and the operator's troubled destinations
 * (which show it).
 */

/** Where an origin's limit starts (the fixed limit before issue 12), or the ceiling if lower. */
export const INITIAL_DESTINATION_LIMIT = 8;

export type DestinationState = 'growing' | 'steady' | 'backing-off' | 'paused';

/** What an origin's limit is doing: paused by a Retry-After, growing (slow start), backing off (halved, below the ceiling), or steady. */
export function destinationState(
  o: { limit: number; slowStart: boolean; decreasedAt: number; pausedUntil: number },
  ceiling: number,
  now: number,
): DestinationState {
  if (o.pausedUntil > now) return 'paused';
  if (o.slowStart) return 'growing';
  return o.decreasedAt > -Infinity && o.limit < ceiling ? 'backing-off' : 'steady';
}

/** An origin's limit as the engine sees it now (issue 12): the attempt log's destination, the operator's troubled destinations. */
export interface DestinationCapacity {
  origin: string;
  /** Requests the whole fleet of workers may have in flight to the origin: learned, up to the ceiling. */
  concurrencyLimit: number;
  ceiling: number;
  /** Requests in flight to the origin now, across the fleet. */
  inFlight: number;
  state: DestinationState;
  /** Until when a Retry-After paused every delivery to the origin (null: not paused). */
  pausedUntil: string | null;
}

/** The columns of an origin's destination_limits row (store/sql/destination-limits.ts); null where a left join found none. */
export interface DestinationLimitColumns {
  concurrency: number | null;
  slow_start: boolean | null;
  decreased_at: Date | null;
  paused_until: Date | null;
}

/**
 * The origin's limit as shown, and its state, from its destination_limits row (undefined,
 * or null columns: the origin has none yet, its limit is still at its start).
 */
export function destinationCapacity(
  origin: string,
  row: DestinationLimitColumns | undefined,
  ceiling: number,
  now: Date,
): Omit<DestinationCapacity, 'inFlight'> {
  const shown = {
    limit: Math.min(row?.concurrency ?? INITIAL_DESTINATION_LIMIT, ceiling),
    slowStart: row?.slow_start ?? true,
    decreasedAt: row?.decreased_at?.getTime() ?? -Infinity,
    pausedUntil: row?.paused_until?.getTime() ?? 0,
  };
  const state = destinationState(shown, ceiling, now.getTime());
  return {
    origin,
    concurrencyLimit: shown.limit,
    ceiling,
    state,
    pausedUntil: state === 'paused' ? row!.paused_until!.toISOString() : null,
  };
}
