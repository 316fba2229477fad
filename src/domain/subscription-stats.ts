import { forbidden, notFound } from '../errors.js';
import { firstIdFrom } from '../store/sql/first-id-from.js';
import { listStatsSubscriptions, readSubscriptionStats, type SubscriptionStatsRow } from '../store/sql/subscription-stats.js';
import { missingScopes } from './catalog.js';
import type { DomainContext } from './context.js';
import type { Principal } from './principal.js';

/** One window's counts of a subscription. */
export interface WindowStats {
  /** Messages (deliveries to this subscription) created in the window. */
  messages: number;
  /** Of those, delivered by now. */
  delivered: number;
  /** Of those, failed by now (the schedule ran out, or 410 Gone). */
  failed: number;
  /** Attempts started in the window (of any message: retries of older ones too). */
  attempts: number;
  successfulAttempts: number;
  /** The window held more than STATS_CAP messages: the counts are of the newest STATS_CAP. */
  capped: boolean;
}

/** A subscription's health and its traffic over the last hour and day (the Console's list). */
export interface SubscriptionStats {
  subscriptionUuid: string;
  status: 'ACTIVE' | 'FAILING';
  failingSince: string | null;
  lastHour: WindowStats;
  lastDay: WindowStats;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** Messages read per subscription and request, at most (store/sql/subscription-stats.ts). */
export const STATS_CAP = 50_000;

// Ids bound the reads, times decide (store/sql/first-id-from.ts): the bounds are taken
// this much earlier than the times, more than ids and times can disagree by.
const DELIVERY_ID_SLACK_MS = 5 * 60_000;

const windowOf = (r: SubscriptionStatsRow, w: 'hour' | 'day'): WindowStats => ({
  messages: r[`${w}_messages`],
  delivered: r[`${w}_delivered`],
  failed: r[`${w}_failed`],
  attempts: r[`${w}_attempts`],
  successfulAttempts: r[`${w}_successful_attempts`],
  capped: r[`${w}_capped`],
});

/**
 * Every live webhook subscription the credential may see (its organization and mode,
 * the scopes of its events held; listeners left out, as the Pusher list leaves them),
 * or only `subscriptionUuid` (404 when it is none of them, 403 when its scopes are
 * missing), with its status and its last hour's and day's counts.
 *
 * Attempts of the day are looked for among the messages created since the day's start
 * less the retry schedule's span (a message is retried within that span), so a failing
 * subscription's retries of older messages count; a message resent after that, or one
 * whose schedule a Retry-After or a backlog stretched past it, is not looked at
 * (store/sql/subscription-stats.ts says why).
 */
export async function subscriptionStats(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  subscriptionUuid?: string,
): Promise<{ subscriptions: SubscriptionStats[] }> {
  const rows = await listStatsSubscriptions(ctx.db, organizationUuid, principal.livemode, subscriptionUuid?.toLowerCase() ?? null);
  if (subscriptionUuid !== undefined) {
    if (rows.length === 0) throw notFound('SUBSCRIPTION_NOT_FOUND', `no subscription ${subscriptionUuid} in this organization`);
    const missing = missingScopes(principal.scopes, rows[0]!.event_names);
    if (missing.length > 0) {
      throw forbidden('INSUFFICIENT_SCOPE', `this subscription's statistics need the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
  }
  const visible = rows.filter((r) => missingScopes(principal.scopes, r.event_names).length === 0);
  if (visible.length === 0) return { subscriptions: [] };

  const now = ctx.clock.now().getTime();
  const dayStart = new Date(now - DAY_MS);
  // A message's attempts start within this of its creation: its schedule, with the
  // ±10 % jitter (a Retry-After, or a backlog, can stretch it further).
  const retrySpanMs = ctx.config.retrySchedule.reduce((sum, s) => sum + s, 0) * 1100 + ctx.config.leaseSeconds * 1000;
  const stats = await readSubscriptionStats(ctx.db, {
    subscriptionIds: visible.map((r) => r.id),
    hourStart: new Date(now - HOUR_MS),
    dayStart,
    fromDeliveryId: await firstIdFrom(ctx.db, 'deliveries', new Date(dayStart.getTime() - retrySpanMs - DELIVERY_ID_SLACK_MS)),
    // An attempt is recorded (gets its id) at most a lease after it started.
    fromAttemptId: await firstIdFrom(ctx.db, 'attempts', new Date(dayStart.getTime() - ctx.config.leaseSeconds * 1000 - DELIVERY_ID_SLACK_MS)),
    cap: STATS_CAP,
  });
  const byId = new Map(stats.map((r) => [r.subscription_id, r]));
  return {
    subscriptions: visible.map((r) => {
      const s = byId.get(r.id)!;
      return {
        subscriptionUuid: r.uuid,
        status: r.status,
        failingSince: r.failing_since?.toISOString() ?? null,
        lastHour: windowOf(s, 'hour'),
        lastDay: windowOf(s, 'day'),
      };
    }),
  };
}
