/**
 * The vocabulary of a destination's learned concurrency limit, shared by the delivery
 * engine (which learns it) and the attempt log (which shows it).
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
