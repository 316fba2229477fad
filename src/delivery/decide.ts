import { decideRetry } from './retry-policy.js';
import type { SendResult } from './send.js';

/** What happens to a delivery after an attempt. */
export type Decision =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: Date }
  | { kind: 'give_up'; reason: 'exhausted' | 'gone' };

export interface DecideInput {
  result: SendResult;
  /** Attempts made so far, this one included. */
  attemptsMade: number;
  schedule: readonly number[];
  now: Date;
  random?: () => number;
}

/**
 * The one function that decides: 2xx delivers; 410 Gone gives up on the subscription
 * (the receiver asked us to stop); any other failure retries on the schedule (with its
 * jitter and Retry-After) until the schedule is exhausted.
 */
export function decide(input: DecideInput): Decision {
  const { result } = input;
  if (result.ok) return { kind: 'delivered' };
  if (result.errorClass === 'http_status' && result.status === 410) return { kind: 'give_up', reason: 'gone' };
  const next = decideRetry({
    schedule: input.schedule,
    attemptsMade: input.attemptsMade,
    now: input.now,
    retryAfter: result.retryAfter ?? null,
    random: input.random,
  });
  return next.kind === 'retry' ? { kind: 'retry', at: next.at } : { kind: 'give_up', reason: 'exhausted' };
}
