import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { tracePublish } from '../tracing.js';
import { firstIdFrom } from '../store/sql/first-id-from.js';
import { insertEventForSubscription } from '../store/sql/insert-event-for-subscription.js';
import {
  findDeliveryRequest,
  findMessage,
  findSubscriptionForLog,
  listAttempts,
  listFeedAttempts,
  listMessages,
  resendDeliveries,
  undeliveredStates,
  type AttemptRow,
  type DeliveryRequestRow,
  type MessageRow,
} from '../store/messages.js';
import { findUndelivered, listUndelivered, liveSubscriptionsOf, type UndeliveredRow } from '../store/undelivered.js';
import { destinationStatus } from '../store/sql/destination-limits.js';
import { destinationCapacity, type DestinationCapacity } from './destination-capacity.js';
import { toBzDate, type BzDate } from './formats.js';
import { EVENT_TYPES, eventType, missingScopes } from './catalog.js';
import type { DomainContext } from './context.js';
import { deliveryFactsOf, deliveryRequest, MASKED_SIGNER, NOT_SENT_PREFIX } from './delivery-request.js';
import { eventExample } from './event-examples.js';
import { inventoryEventId, isUuid, pusherMessageId } from './ids.js';
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

/**
 * The request of an attempt, as the worker sent it: rebuilt from the event as stored, the
 * attempt's id and its start (the `now` the worker signed with), by the code that built
 * it (domain/delivery-request.ts), with the signatures masked. What can differ from the
 * bytes sent: `url` is the subscription's destination now (an update since changes it);
 * during a key rotation's overlap a signature header carried one signature per key, the
 * mask shows one; a `traceparent` header, added when tracing is on, is not shown; and
 * the HTTP client's own headers (Host, Content-Length, Connection) are not listed.
 */
export interface AttemptRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoggedAttempt extends Attempt {
  /** Null when nothing was built (its signing key did not open: errorMessage says so). */
  request: AttemptRequest | null;
}

/** The request of an attempt, rebuilt with masked signatures; null when the worker sent nothing. */
function requestOf(r: AttemptRow, d: DeliveryRequestRow): AttemptRequest | null {
  if (r.error_class === 'other' && r.error_message?.startsWith(NOT_SENT_PREFIX)) return null;
  const req = deliveryRequest(deliveryFactsOf(d), r.started_at, MASKED_SIGNER, r.attempt_id);
  return { method: 'POST', url: req.url, headers: req.headers, body: req.body };
}

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

/**
 * How far from a time the id bound of a message filter is taken (store/sql/first-id-from.ts):
 * more than the moment between reading the clock for an event and inserting it.
 */
const DELIVERY_ID_SLACK_MS = 5 * 60_000;

/** What a page of messages is narrowed to, beside its state. */
export interface MessageQuery {
  filter: MessageFilter;
  /** Exactly this event. */
  eventName?: string;
  /** Created at or after. */
  since?: Date;
  /** Created before. */
  until?: Date;
  limit: number;
  before?: number;
}

/** A page of a subscription's messages, newest first; `cursor` fetches the next page. */
export async function messagesOf(
  ctx: DomainContext,
  s: LogScope,
  opts: MessageQuery,
): Promise<{ messages: Message[]; cursor: number | null; destination: DestinationCapacity }> {
  const sub = await subscriptionOf(ctx, s);
  const states = opts.filter === 'all' ? null : opts.filter === 'undelivered' ? undeliveredStates() : [opts.filter];
  const at = (d: Date, ms: number) => new Date(d.getTime() + ms);
  const rows = await listMessages(ctx.db, sub.id, {
    states,
    eventName: opts.eventName ?? null,
    since: opts.since ?? null,
    until: opts.until ?? null,
    minId: opts.since ? await firstIdFrom(ctx.db, 'deliveries', at(opts.since, -DELIVERY_ID_SLACK_MS)) : null,
    maxIdExclusive: opts.until ? await firstIdFrom(ctx.db, 'deliveries', at(opts.until, DELIVERY_ID_SLACK_MS)) : null,
    limit: opts.limit + 1,
    beforeId: opts.before ?? null,
  });
  const page = rows.slice(0, opts.limit);
  return {
    messages: page.map(toMessage),
    cursor: rows.length > opts.limit ? page[page.length - 1]!.delivery_id : null,
    destination: await capacityOf(ctx, sub.destination_origin),
  };
}

async function capacityOf(ctx: DomainContext, origin: string): Promise<DestinationCapacity> {
  const now = ctx.clock.now();
  const { limit, inFlight } = await destinationStatus(ctx.db, origin, now);
  return { ...destinationCapacity(origin, limit, ctx.config.perDestinationConcurrency, now), inFlight };
}

/** A message and every attempt to deliver it, each with the request it sent (signatures masked). */
export async function attemptsOf(
  ctx: DomainContext,
  s: LogScope,
  messageId: string,
): Promise<{ message: Message; attempts: LoggedAttempt[] }> {
  const sub = await subscriptionOf(ctx, s);
  const m = await findMessage(ctx.db, sub.id, messageId);
  if (!m) throw notFound('MESSAGE_NOT_FOUND', `subscription ${s.subscriptionUuid} has no message ${messageId}`);
  const rows = await listAttempts(ctx.db, m.delivery_id);
  const facts = rows.length > 0 ? await findDeliveryRequest(ctx.db, m.delivery_id) : undefined;
  return {
    message: toMessage(m),
    attempts: rows.map((r) => ({ ...toAttempt(r), request: facts ? requestOf(r, facts) : null })),
  };
}

/**
 * Sends one event of the catalog, with its example payload (GET /events), to this
 * subscription only, through the outbox: delivered, signed, retried and listed like any
 * message. `eventName`: one of the subscription's events (for a subscription to every
 * event, any event of the catalog the credential's scopes allow); default its first.
 * 400 VALIDATION_ERROR for another; 409 when the subscription is deleted.
 */
export async function sendTestEvent(
  ctx: DomainContext,
  s: LogScope,
  eventName: string | undefined,
): Promise<{ messageId: string; eventName: string }> {
  const sub = await subscriptionOf(ctx, s);
  if (sub.deleted_at) throw conflict('SUBSCRIPTION_DELETED', 'the subscription was deleted; it receives no test event');
  const allowed =
    sub.event_names.length > 0
      ? sub.event_names
      : EVENT_TYPES.filter((e) => !s.principal || missingScopes(s.principal.scopes, [e.name]).length === 0).map((e) => e.name);
  const name = eventName ?? allowed[0];
  if (name === undefined || !allowed.includes(name) || !eventType(name)) {
    const v = {
      propertyName: 'eventName',
      developerMessage:
        sub.event_names.length > 0 ? `must be one of the subscription's events: ${allowed.join(', ')}` : 'must be an event of the catalog (GET /events)',
    };
    throw badRequest('VALIDATION_ERROR', `eventName ${v.developerMessage}`, [v]);
  }
  const now = ctx.clock.now();
  // The message id rule of the outbox (outbox.ts recordEvent), for a message no producer names.
  const messageId = eventType(name)!.envelope === 'inventory' ? inventoryEventId(now) : pusherMessageId();
  const made = await ctx.db.transaction(async (tx) => {
    const n = await insertEventForSubscription(tx, {
      subscriptionId: sub.id,
      eventName: name,
      messageId,
      payload: eventExample(name),
      createdAt: now,
      traceContext: tracePublish({ eventName: name, organizationUuid: s.organizationUuid, messageId }),
    });
    if (n > 0) tx.notifyOnCommit(WAKE_CHANNEL);
    return n;
  });
  // Deleted between the read above and the insert.
  if (made === 0) throw conflict('SUBSCRIPTION_DELETED', 'the subscription was deleted; it receives no test event');
  return { messageId, eventName: name };
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
    const n = await resendDeliveries(tx, [sub.id], deliveryId, ctx.clock.now());
    if (n > 0) tx.notifyOnCommit(WAKE_CHANNEL);
    return n;
  });
  return { resent };
}

/**
 * Betterez's undelivered webhooks, over the attempt log: an organization's messages not
 * (yet) delivered to its live subscriptions, that the credential may see (its mode, and
 * the scopes of the subscription's events). An item is one message to one subscription;
 * its `_id` is the delivery's id as 24 hex, the Inventory API's id form.
 */
export interface UndeliveredItem {
  _id: string;
  /** The message id (Pusher messageId / Inventory event id). */
  eventId: string;
  event: string;
  subscriptionUuid: string;
  /** Where it is sent: the subscription's destination. */
  url: string;
  /** The event's payload (the Inventory envelope's data). */
  data: unknown;
  state: 'pending' | 'failed';
  attempts: number;
  statusCode: number | null;
  /** Why the last attempt failed, or null before the first. */
  reason: string | null;
  createdAt: BzDate;
  /** When it is tried next (pending), or null (failed: the schedule ran out). */
  nextAttemptAt: BzDate | null;
}

const undeliveredNotFound = (id: string) => notFound('UNDELIVERED_NOT_FOUND', `no undelivered message ${id}`);

const undeliveredIdOf = (deliveryId: number): string => deliveryId.toString(16).padStart(24, '0');

/**
 * A delivery id from an item id: 24 hex, else 400 (so a typo is not mistaken for a
 * delivered message); one beyond any delivery id Herald makes is 404.
 */
function parseUndeliveredId(id: string): number {
  if (!/^[0-9a-fA-F]{24}$/.test(id)) {
    throw badRequest('INVALID_UNDELIVERED_ID', `the undelivered message id must be 24 hexadecimal characters, not "${id}"`, [
      { propertyName: 'id', developerMessage: 'must be 24 hexadecimal characters' },
    ]);
  }
  const n = Number.parseInt(id, 16);
  if (!Number.isSafeInteger(n) || n <= 0) throw undeliveredNotFound(id);
  return n;
}

const toUndelivered = (r: UndeliveredRow): UndeliveredItem => ({
  _id: undeliveredIdOf(r.delivery_id),
  eventId: r.message_id,
  event: r.event_name,
  subscriptionUuid: r.subscription_uuid,
  url: r.destination,
  data: JSON.parse(r.payload) as unknown,
  state: r.state,
  attempts: r.attempts,
  statusCode: r.last_status,
  reason: r.last_error,
  createdAt: toBzDate(r.created_at),
  nextAttemptAt: r.state === 'pending' ? toBzDate(r.next_attempt_at) : null,
});

/** The ids of the live subscriptions whose messages the principal may see. */
async function visibleSubscriptionIds(ctx: DomainContext, p: Principal): Promise<number[]> {
  const subs = await liveSubscriptionsOf(ctx.db, p.organizationUuid, p.livemode);
  return subs.filter((s) => missingScopes(p.scopes, s.event_names).length === 0).map((s) => s.id);
}

/** A page of undelivered messages, newest first, and how many there are. */
export async function undeliveredOf(
  ctx: DomainContext,
  p: Principal,
  page: { page: number; pageSize: number },
): Promise<{ items: UndeliveredItem[]; count: number }> {
  const ids = await visibleSubscriptionIds(ctx, p);
  const r = await listUndelivered(ctx.db, ids, { limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
  return { items: r.rows.map(toUndelivered), count: r.count };
}

export async function undeliveredItem(ctx: DomainContext, p: Principal, id: string): Promise<UndeliveredItem> {
  const deliveryId = parseUndeliveredId(id);
  const row = await findUndelivered(ctx.db, await visibleSubscriptionIds(ctx, p), deliveryId);
  if (!row) throw undeliveredNotFound(id);
  return toUndelivered(row);
}

/** Resends one undelivered message (409 while it is being sent), or every one when id is null. */
export async function retryUndelivered(ctx: DomainContext, p: Principal, id: string | null): Promise<{ resent: number }> {
  const ids = await visibleSubscriptionIds(ctx, p);
  let deliveryId: number | null = null;
  if (id !== null) {
    deliveryId = parseUndeliveredId(id);
    const row = await findUndelivered(ctx.db, ids, deliveryId);
    if (!row) throw undeliveredNotFound(id);
    if (row.leased_by) throw conflict('MESSAGE_IN_FLIGHT', 'the message is being sent right now');
  }
  const resent = await ctx.db.transaction(async (tx) => {
    const n = ids.length === 0 ? 0 : await resendDeliveries(tx, ids, deliveryId, ctx.clock.now());
    if (n > 0) tx.notifyOnCommit(WAKE_CHANNEL);
    return n;
  });
  return { resent };
}

/** How long after it ended an attempt counts as settled (every attempt recorded around it committed). */
export const FEED_SETTLE_MS = 5000;

/** One attempt in the organization's feed (herald tail). */
export interface FeedAttempt extends Attempt {
  /** The feed's cursor at this attempt. */
  id: number;
  subscriptionUuid: string;
  eventName: string;
  messageId: string;
}

/**
 * The organization's delivery attempts as they happen (herald tail), oldest first:
 * `after` a cursor, or the newest ones when absent; `cursor` is where the next read
 * starts. Only subscriptions of the credential's mode whose events' scopes it holds.
 */
export async function attemptFeed(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  opts: { after?: number; limit: number; subscriptionUuid?: string; eventName?: string; outcome?: 'success' | 'failure' },
): Promise<{ attempts: FeedAttempt[]; cursor: number; more: boolean }> {
  if (opts.subscriptionUuid !== undefined && !isUuid(opts.subscriptionUuid)) {
    throw badRequest('VALIDATION_ERROR', 'subscription must be a UUID', [{ propertyName: 'subscription', developerMessage: 'must be a UUID' }]);
  }
  const { rows, windowEnd, firstUnsettled, windowFull } = await listFeedAttempts(ctx.db, organizationUuid, {
    settledBefore: new Date(ctx.clock.now().getTime() - FEED_SETTLE_MS),
    afterId: opts.after ?? null,
    limit: opts.limit,
    livemode: principal.livemode,
    subscriptionUuid: opts.subscriptionUuid?.toLowerCase() ?? null,
    eventName: opts.eventName ?? null,
    outcome: opts.outcome ?? null,
  });
  const attempts = rows
    .filter((r) => missingScopes(principal.scopes, r.event_names).length === 0)
    .map((r) => ({ ...toAttempt(r), id: r.id, subscriptionUuid: r.subscription_uuid, eventName: r.event_name, messageId: r.message_id }));
  // A full page: go on after its last row; otherwise after the whole window read. But
  // never past a recent attempt: on PostgreSQL, attempts recorded side by side commit out
  // of id order, and one with a lower id may not be visible yet. The cursor waits until
  // FEED_SETTLE_MS after the first recent one; meanwhile the same recent attempts come
  // again (a reader drops the ids it has shown: herald tail does).
  const after = opts.after ?? 0;
  let cursor = rows.length === opts.limit && opts.after !== undefined ? rows.at(-1)!.id : (windowEnd ?? after);
  if (firstUnsettled !== null) cursor = Math.min(cursor, firstUnsettled - 1);
  cursor = Math.max(cursor, after);
  return { attempts, cursor, more: cursor > after && (windowFull || (rows.length === opts.limit && opts.after !== undefined)) };
}
