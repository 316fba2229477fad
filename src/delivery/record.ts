import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import {
  failDelivery,
  insertAttempt,
  insertMail,
  markExhaustedWarned,
  markFailing,
  scheduleRetry,
} from '../store/sql/record-failure.js';
import { retireSubscription } from '../store/subscriptions.js';
import type { ClaimedDelivery } from '../store/sql/claim-deliveries.js';
import type { Decision } from './decide.js';
import { exhaustedMail, failingMail, goneMail, type FailureFacts } from './mails.js';
import type { SendResult } from './send.js';

/** NOTIFY channel that wakes mail senders. */
export const MAIL_CHANNEL = 'herald_mails';

export interface FailureOutcome {
  /** False when the lease was lost (another worker claimed the delivery meanwhile). */
  recorded: boolean;
  turnedFailing: boolean;
  mails: number;
  retired: boolean;
}

/**
 * Stage 3 (failures): in one transaction, logs the attempt, schedules the retry or gives
 * the delivery up, turns the subscription FAILING, queues the warning mail (once per
 * failing period) or the final one, and deletes the subscription when the schedule is
 * exhausted (HERALD_EXHAUSTED_SUBSCRIPTION=delete) or the destination answered 410.
 */
export async function recordFailure(
  deps: { db: Db; config: Pick<Config, 'exhaustedSubscription'>; log: Logger },
  d: ClaimedDelivery,
  attempt: { attemptId: string; startedAt: Date; result: Extract<SendResult, { ok: false }> },
  decision: Exclude<Decision, { kind: 'delivered' }>,
  workerId: string,
  now: Date,
): Promise<FailureOutcome> {
  const { result } = attempt;
  const error = `${result.errorClass}: ${result.message}`.slice(0, 1000);
  const status = result.status ?? null;
  return deps.db.transaction(async (tx) => {
    await insertAttempt(tx, {
      deliveryId: d.id,
      attemptId: attempt.attemptId,
      startedAt: attempt.startedAt,
      latencyMs: result.latencyMs,
      outcome: 'failure',
      statusCode: status,
      errorClass: result.errorClass,
      errorMessage: result.message.slice(0, 1000),
      excerpt: result.excerpt ?? null,
    });
    const lease = { deliveryId: d.id, workerId, attempt: d.attempts };
    const held =
      decision.kind === 'retry'
        ? await scheduleRetry(tx, lease, decision.at, status, error)
        : await failDelivery(tx, lease, now, status, error);
    if (!held) return { recorded: false, turnedFailing: false, mails: 0, retired: false };

    const sub = await markFailing(tx, d.subscription_id, now);
    if (!sub) return { recorded: true, turnedFailing: false, mails: 0, retired: false }; // deleted meanwhile
    const facts: FailureFacts = { errorClass: result.errorClass, status, message: result.message, at: now };
    const mails = [];
    if (!sub.was_warned) mails.push(failingMail(sub, facts, decision.kind === 'retry' ? decision.at : null));
    let retired = false;
    if (decision.kind === 'give_up') {
      if (decision.reason === 'gone') {
        await retireSubscription(tx, d.subscription_id, now, 'the destination answered 410 Gone');
        retired = true;
        mails.push(goneMail(sub, now));
      } else {
        retired = deps.config.exhaustedSubscription === 'delete';
        if (retired) await retireSubscription(tx, d.subscription_id, now, 'retry schedule exhausted');
        // Kept subscriptions exhaust one delivery after another: one mail per failing period.
        if (retired || !sub.exhausted_warned) {
          mails.push(exhaustedMail(sub, facts, retired));
          if (!retired) await markExhaustedWarned(tx, sub.id);
        }
      }
    }
    for (const m of mails) {
      await insertMail(tx, { ...m, createdAt: now });
      deps.log.info({ kind: m.kind, to: m.to, subscriptionUuid: m.subscriptionUuid }, 'mail queued for the subscription contact');
    }
    if (mails.length > 0) tx.notifyOnCommit(MAIL_CHANNEL);
    return { recorded: true, turnedFailing: sub.was_status === 'ACTIVE', mails: mails.length, retired };
  });
}
