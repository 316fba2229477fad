import type { Clock } from '../clock.js';
import { tracePublish } from '../tracing.js';
import type { Tx } from '../store/db.js';
import { insertEvent } from '../store/sql/insert-event.js';
import { eventType } from './catalog.js';
import { inventoryEventId, pusherMessageId } from './ids.js';

/** NOTIFY channel that wakes delivery workers when new deliveries are committed. */
export const WAKE_CHANNEL = 'herald_deliveries';

export interface NewEvent {
  organizationUuid: string;
  eventName: string;
  payload: unknown;
  /** false when the acting credential is a test-mode key. */
  livemode: boolean;
  /**
   * A producer's id for the message (the publish endpoint); the message id is derived
   * from it (pusherMessageId / inventoryEventId), so repeating one makes no second message.
   * Generated when absent.
   */
  messageId?: string;
  /** Only subscriptions created by this credential ('api_key:<id>') receive it. */
  onlyCreatedBy?: string;
}

/**
 * Records an event in the outbox, inside the caller's transaction (the one that made the
 * change the event tells of), fans it out to the matching subscriptions, and wakes the
 * workers when that transaction commits. An event with `alsoFor` names is recorded once
 * more under each, for the subscriptions that name it but not the event (their message
 * id named by the event's and the alias, so a repeated producer id stays one message).
 */
export async function recordEvent(
  tx: Tx,
  clock: Clock,
  e: NewEvent,
): Promise<{ messageId: string; accepted: boolean; deliveries: number }> {
  const type = eventType(e.eventName);
  if (!type) throw new Error(`unknown event ${e.eventName}`);
  // The Inventory envelope's id is an ObjectId (24 hex); the Pusher messageId a v5 UUID.
  const messageId = type.envelope === 'inventory' ? inventoryEventId(clock.now(), e.messageId) : pusherMessageId(e.messageId);
  const base = {
    // When tracing is on: the publish span, whose trace each delivery joins.
    traceContext: tracePublish({ eventName: e.eventName, organizationUuid: e.organizationUuid, messageId }),
    organizationUuid: e.organizationUuid,
    payload: e.payload,
    livemode: e.livemode,
    createdAt: clock.now(),
    onlyCreatedBy: e.onlyCreatedBy ?? null,
  };
  const r = await insertEvent(tx, { ...base, eventName: e.eventName, messageId });
  let deliveries = r.deliveries;
  if (r.eventId !== null) {
    for (const alias of type.alsoFor ?? []) {
      const aliased = await insertEvent(tx, {
        ...base,
        eventName: alias,
        messageId: pusherMessageId(`${messageId}/${alias}`),
        audience: { names: [alias], everyEvent: false, unless: [e.eventName] },
      });
      deliveries += aliased.deliveries;
    }
  }
  if (deliveries > 0) tx.notifyOnCommit(WAKE_CHANNEL);
  return { messageId, accepted: r.eventId !== null, deliveries };
}
