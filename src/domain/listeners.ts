import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../errors.js';
import {
  answerListenRequest,
  deleteListener,
  findListener,
  insertListener,
  listenersToEnd,
  releaseListenRequests,
  takeUnpushedRequests,
  touchListeners as touchListenerRows,
  type ListenAnswer,
  type ListenerRow,
  type ListenRequestRow,
} from '../store/listeners.js';
import { insertSubscription, lockAndCountLiveSubscriptions, retireSubscription } from '../store/subscriptions.js';
import { EVENT_TYPES, missingScopes } from './catalog.js';
import type { DomainContext } from './context.js';
import { isUuid } from './ids.js';
import type { Principal } from './principal.js';
import { limitReached, newSigningKey, readEventNames, requireEventScopes, TRANSPORT_LISTEN } from './subscriptions.js';

/**
 * `herald listen` (issue 10): a developer's CLI receives the organization's events over a
 * stream and forwards them to a server on their machine. A listener is a subscription of
 * transport LISTEN (destination listen://<id>), so the engine fans out, signs, retries and
 * logs its deliveries like any other; the worker's listen relay hands each signed request
 * to the stream instead of sending it over HTTP (delivery/listen-relay.ts). No destination
 * rule is relaxed: nothing is ever sent to the developer's address by Herald.
 */

/** The scheme of a listener's destination. */
export const LISTEN_SCHEME = 'listen:';
/** Wakes the API processes holding streams: requests are waiting to be pushed. */
export const LISTEN_REQUEST_CHANNEL = 'herald_listen_requests';
/** Wakes the workers waiting for answers: an answer arrived. */
export const LISTEN_ANSWER_CHANNEL = 'herald_listen_answers';
/** A listener whose stream was not seen for this long has lost its CLI; the next sweep ends it. */
export const LISTENER_STALE_MS = 60_000;

export const listenDestination = (listenerId: string) => `${LISTEN_SCHEME}//${listenerId}`;

export interface Listener {
  /** The listener's id, which is also its subscription's uuid (its messages, resend). */
  id: string;
  eventNames: string[];
  /** The key its deliveries are signed with (the local server verifies them with it). */
  signingKey: string;
  /** How long the worker waits for the CLI's report of an answer. */
  timeoutMs: number;
}

/**
 * Creates a listener for the credential's organization and mode. eventNames: the events
 * to receive (scopes checked as for a subscription); absent or empty, every event the
 * credential's scopes allow. Counts against the subscription limit while it lives.
 */
export async function createListener(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  input: { eventNames?: unknown },
): Promise<Listener> {
  let eventNames: string[];
  const asked = input.eventNames;
  if (asked === undefined || (Array.isArray(asked) && asked.length === 0)) {
    eventNames = EVENT_TYPES.filter((e) => missingScopes(principal.scopes, [e.name]).length === 0).map((e) => e.name);
  } else {
    const r = readEventNames(asked);
    if (r.violation) throw badRequest('VALIDATION_ERROR', `${r.violation.propertyName} ${r.violation.developerMessage}`, [r.violation]);
    eventNames = r.names!;
    requireEventScopes(principal, eventNames);
  }
  const id = randomUUID();
  const signingKey = newSigningKey();
  const now = ctx.clock.now();
  const limit = ctx.config.maxSubscriptionsPerOrganization;
  await ctx.db.transaction(async (tx) => {
    if ((await lockAndCountLiveSubscriptions(tx, organizationUuid)) >= limit) throw limitReached(limit);
    const sub = await insertSubscription(tx, {
      uuid: id,
      organization_uuid: organizationUuid,
      transport_name: TRANSPORT_LISTEN,
      event_names: eventNames,
      destination: listenDestination(id),
      contact_email: '',
      signing_key: ctx.secrets.seal(signingKey, 'subscription-signing-key'),
      ordered: false,
      created_by: principal.credentialRef,
      livemode: principal.livemode,
      created_at: now,
    });
    await insertListener(tx, { id, subscriptionId: sub.id, organizationUuid, now });
  });
  return { id, eventNames, signingKey, timeoutMs: ctx.config.deliveryTimeoutMs };
}

/**
 * The listener with this id of the organization, started by this credential (a listener
 * is its credential's session: another key of the organization, whatever its mode or
 * scopes, cannot read, answer or end it). 404 LISTENER_NOT_FOUND otherwise.
 */
export async function listenerOf(ctx: DomainContext, principal: Principal, organizationUuid: string, listenerId: string): Promise<ListenerRow> {
  const row = isUuid(listenerId) ? await findListener(ctx.db, organizationUuid, listenerId.toLowerCase()) : undefined;
  if (!row || row.created_by !== principal.credentialRef) throw notFound('LISTENER_NOT_FOUND', `no listener ${listenerId} in this organization`);
  return row;
}

/** Ends a listener: its subscription is deleted (pending deliveries cancelled), its waiting requests dropped. */
export async function endListener(ctx: DomainContext, listener: ListenerRow, reason: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await retireSubscription(tx, listener.subscription_id, ctx.clock.now(), reason);
    await deleteListener(tx, listener.id, listenDestination(listener.id));
    // Workers waiting for answers to its requests stop waiting: there will be none.
    tx.notifyOnCommit(LISTEN_ANSWER_CHANNEL);
  });
}

/** Records the CLI's report of how the local server answered one request (404 when none waits for it). */
export async function answerRequest(ctx: DomainContext, listener: ListenerRow, requestId: string, answer: ListenAnswer): Promise<void> {
  const ok =
    isUuid(requestId) &&
    (await ctx.db.transaction(async (tx) => {
      const answered = await answerListenRequest(tx, listener.id, requestId.toLowerCase(), answer, ctx.clock.now());
      if (answered) tx.notifyOnCommit(LISTEN_ANSWER_CHANNEL);
      return answered;
    }));
  if (!ok) throw notFound('LISTEN_REQUEST_NOT_FOUND', `no request ${requestId} of this listener is waiting for an answer`);
}

/**
 * Ends the listeners whose streams are gone (their CLI, or the API process holding them,
 * died), whose credential was revoked, or whose subscription was deleted (a 410 from the
 * local server, an exhausted schedule); returns how many.
 */
export async function sweepStaleListeners(ctx: DomainContext): Promise<number> {
  const ending = await listenersToEnd(ctx.db, new Date(ctx.clock.now().getTime() - LISTENER_STALE_MS), 100);
  for (const l of ending) await endListener(ctx, l, 'listener ended: disconnected, its credential revoked, or its subscription deleted');
  return ending.length;
}

/** Takes up to `limit` requests waiting to be pushed to these listeners' streams (each is taken once). */
export const takeRequests = (ctx: DomainContext, listenerIds: string[], limit: number): Promise<ListenRequestRow[]> =>
  takeUnpushedRequests(ctx.db, listenerIds, ctx.clock.now(), limit);

/** Marks listeners whose streams are open as seen now (else the sweep ends them); returns those that still exist. */
export const touchListeners = (ctx: DomainContext, listenerIds: string[]): Promise<string[]> =>
  touchListenerRows(ctx.db, listenerIds, ctx.clock.now());

/** Requests taken for a stream that closed before they were written: pushed to the next stream instead. */
export const releaseRequests = (ctx: DomainContext, ids: string[]): Promise<void> => releaseListenRequests(ctx.db, ids);

export type { ListenAnswer, ListenerRow };
