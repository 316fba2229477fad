import { conflict, forbidden, notFound } from '../errors.js';
import {
  findMessage,
  findSubscriptionForLog,
  listAttempts,
  listMessages,
  resendDeliveries,
  undeliveredStates,
  type AttemptRow,
  type MessageRow,
} from '../store/messages.js';
import { missingScopes } from './catalog.js';
import type { DomainContext } from './context.js';
import { isUuid } from './ids.js';
import { WAKE_CHANNEL } from './outbox.js';
import type { Principal } from './principal.js';

/** The attempt log and resend ("undeliverables": resend one or all). */

export interface Message {
  messageId: string;
  eventName: string;
  state: MessageRow['state'];
  attempts: number;
  created: string;
  nextAttempt: string | null;
  finished: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

export interface Attempt {
  attemptId: string;
  started: string;
  latencyMs: number;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  responseExcerpt: string | null;
}

const toMessage = (r: MessageRow): Message => ({
  messageId: r.message_id,
  eventName: r.event_name,
  state: r.state,
  attempts: r.attempts,
  created: r.created_at.toISOString(),
  nextAttempt: r.state === 'pending' ? r.next_attempt_at.toISOString() : null,
  finished: r.finished_at?.toISOString() ?? null,
  lastStatusCode: r.last_status,
  lastError: r.last_error,
});

const toAttempt = (r: AttemptRow): Attempt => ({
  attemptId: r.attempt_id,
  started: r.started_at.toISOString(),
  latencyMs: r.latency_ms,
  outcome: r.outcome,
  statusCode: r.status_code,
  errorClass: r.error_class,
  errorMessage: r.error_message,
  responseExcerpt: r.response_excerpt,
});

export interface LogScope {
  organizationUuid: string;
  subscriptionUuid: string;
  /** Admin: a deleted subscription's log stays readable. */
  includeDeleted: boolean;
  /**
   * The credential asking: it reaches only subscriptions of its mode whose events'
   * scopes it holds. Undefined for the admin.
   */
  principal?: Principal;
}

/** The subscription the log is about, checked once: found, of the credential's mode, within its scopes. */
async function subscriptionOf(ctx: DomainContext, s: LogScope) {
  const sub =
    isUuid(s.subscriptionUuid) && isUuid(s.organizationUuid)
      ? await findSubscriptionForLog(ctx.db, s.organizationUuid, s.subscriptionUuid.toLowerCase(), s.includeDeleted)
      : undefined;
  if (!sub || (s.principal && sub.livemode !== s.principal.livemode)) {
    throw notFound('SUBSCRIPTION_NOT_FOUND', `no subscription ${s.subscriptionUuid} in this organization`);
  }
  const missing = s.principal ? missingScopes(s.principal.scopes, sub.event_names) : [];
  if (missing.length > 0) {
    throw forbidden('INSUFFICIENT_SCOPE', `this subscription's messages need the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  return sub;
}

export type MessageFilter = 'all' | 'undelivered' | MessageRow['state'];

/** A page of a subscription's messages, newest first; `cursor` fetches the next page. */
export async function messagesOf(
  ctx: DomainContext,
  s: LogScope,
  opts: { filter: MessageFilter; limit: number; before?: number },
): Promise<{ messages: Message[]; cursor: number | null }> {
  const sub = await subscriptionOf(ctx, s);
  const states = opts.filter === 'all' ? null : opts.filter === 'undelivered' ? undeliveredStates() : [opts.filter];
  const rows = await listMessages(ctx.db, sub.id, { states, limit: opts.limit + 1, beforeId: opts.before ?? null });
  const page = rows.slice(0, opts.limit);
  return { messages: page.map(toMessage), cursor: rows.length > opts.limit ? page[page.length - 1]!.delivery_id : null };
}

export async function attemptsOf(ctx: DomainContext, s: LogScope, messageId: string): Promise<{ message: Message; attempts: Attempt[] }> {
  const sub = await subscriptionOf(ctx, s);
  const m = await findMessage(ctx.db, sub.id, messageId);
  if (!m) throw notFound('MESSAGE_NOT_FOUND', `subscription ${s.subscriptionUuid} has no message ${messageId}`);
  return { message: toMessage(m), attempts: (await listAttempts(ctx.db, m.delivery_id)).map(toAttempt) };
}

/** Resends one message (any state but in flight), or every undelivered one when messageId is null. */
export async function resend(ctx: DomainContext, s: LogScope, messageId: string | null): Promise<{ resent: number }> {
  const sub = await subscriptionOf(ctx, s);
  if (sub.deleted_at) throw conflict('SUBSCRIPTION_DELETED', 'the subscription was deleted; its messages can be listed but not resent');
  let deliveryId: number | null = null;
  if (messageId !== null) {
    const m = await findMessage(ctx.db, sub.id, messageId);
    if (!m) throw notFound('MESSAGE_NOT_FOUND', `subscription ${s.subscriptionUuid} has no message ${messageId}`);
    if (m.leased_by) throw conflict('MESSAGE_IN_FLIGHT', 'the message is being sent right now');
    deliveryId = m.delivery_id;
  }
  const resent = await ctx.db.transaction(async (tx) => {
    const n = await resendDeliveries(tx, sub.id, deliveryId, ctx.clock.now());
    if (n > 0) tx.notifyOnCommit(WAKE_CHANNEL);
    return n;
  });
  return { resent };
}
