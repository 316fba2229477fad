import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db, Tx } from '../store/db.js';
import { insertMail, markExhaustedWarned, markFailing, recordFailures, type FailureRecord } from '../store/sql/record-failure.js';
import { retireSubscription } from '../store/subscriptions.js';
import type { Decision } from './decide.js';
import { exhaustedMail, failingMail, goneMail, type FailureFacts } from './mails.js';

/** NOTIFY channel that wakes mail senders. */
export const MAIL_CHANNEL = 'herald_mails';

/** A failed attempt as the worker hands it over: the record, and what `decide` said. */
export interface FailedAttempt {
  record: FailureRecord;
  subscriptionId: number;
  decision: Exclude<Decision, { kind: 'delivered' }>;
  facts: FailureFacts;
}

/** What a batch changed, for the worker's log. */
export interface FailureOutcome {
  turnedFailing: string[];
  retired: { subscriptionUuid: string; reason: string }[];
}

/**
 * Stage 3 (failures), for a batch, in one transaction: logs every attempt and schedules
 * each retry or gives the delivery up in one statement, then decides each touched
 * subscription's health once (`subscriptionHealth`).
 */
export async function recordFailureBatch(
  deps: { db: Db; config: Pick<Config, 'exhaustedSubscription'>; log: Logger },
  batch: FailedAttempt[],
  workerId: string,
  now: Date,
): Promise<FailureOutcome> {
  return deps.db.transaction(async (tx) => {
    const moved = new Set((await recordFailures(tx, batch.map((f) => f.record), now, workerId)).map((r) => r.id));
    const bySubscription = new Map<number, FailedAttempt[]>();
    for (const f of batch) {
      if (!moved.has(f.record.deliveryId)) continue;
      const list = bySubscription.get(f.subscriptionId) ?? [];
      list.push(f);
      bySubscription.set(f.subscriptionId, list);
    }
    const outcome: FailureOutcome = { turnedFailing: [], retired: [] };
    // In id order: two batches touching the same subscriptions lock them in one order.
    for (const id of [...bySubscription.keys()].sort((a, b) => a - b)) {
      await subscriptionHealth(tx, deps, id, bySubscription.get(id)!, now, outcome);
    }
    return outcome;
  });
}

/**
 * A subscription's health after failures, decided in one place: it turns FAILING (its
 * failing period starts, or goes on); the warning mail goes once per failing period; a
 * 410 Gone deletes it (with the gone mail); an exhausted schedule deletes it
 * (HERALD_EXHAUSTED_SUBSCRIPTION=delete) or, kept, mails once per failing period. A
 * success turns it ACTIVE again (store/sql/record-successes.ts).
 */
async function subscriptionHealth(
  tx: Tx,
  deps: { config: Pick<Config, 'exhaustedSubscription'>; log: Logger },
  subscriptionId: number,
  failures: FailedAttempt[],
  now: Date,
  outcome: FailureOutcome,
): Promise<void> {
  const sub = await markFailing(tx, subscriptionId, now);
  if (!sub) return; // deleted meanwhile
  if (sub.was_status === 'ACTIVE') outcome.turnedFailing.push(sub.uuid);
  const first = failures[0]!;
  const mails = [];
  if (!sub.was_warned) mails.push(failingMail(sub, first.facts, first.decision.kind === 'retry' ? first.decision.at : null));
  const gone = failures.find((f) => f.decision.kind === 'give_up' && f.decision.reason === 'gone');
  const exhausted = failures.find((f) => f.decision.kind === 'give_up' && f.decision.reason === 'exhausted');
  if (gone) {
    await retireSubscription(tx, subscriptionId, now, 'the destination answered 410 Gone');
    outcome.retired.push({ subscriptionUuid: sub.uuid, reason: 'gone' });
    mails.push(goneMail(sub, now));
  } else if (exhausted) {
    const retired = deps.config.exhaustedSubscription === 'delete';
    if (retired) {
      await retireSubscription(tx, subscriptionId, now, 'retry schedule exhausted');
      outcome.retired.push({ subscriptionUuid: sub.uuid, reason: 'exhausted' });
    }
    // Kept subscriptions exhaust one delivery after another: one mail per failing period.
    if (retired || !sub.exhausted_warned) {
      mails.push(exhaustedMail(sub, exhausted.facts, retired));
      if (!retired) await markExhaustedWarned(tx, sub.id);
    }
  }
  // A listener (herald listen) has no contact: its developer watches the CLI instead.
  for (const m of mails.filter((m) => m.to !== '')) {
    await insertMail(tx, { ...m, createdAt: now });
    deps.log.info({ kind: m.kind, to: m.to, subscriptionUuid: m.subscriptionUuid }, 'mail queued for the subscription contact');
  }
  if (mails.some((m) => m.to !== '')) tx.notifyOnCommit(MAIL_CHANNEL);
}
