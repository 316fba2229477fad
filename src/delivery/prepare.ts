import { eventType } from '../domain/catalog.js';
import { newObjectId } from '../domain/ids.js';
import type { SecretBox } from '../domain/sealed-secrets.js';
import type { ClaimedDelivery } from '../store/sql/claim-deliveries.js';
import { inventoryEnvelope, pusherEnvelope, signRequest } from './envelopes.js';

/** A request ready to send: the destination, the exact body bytes, the signed headers. */
export interface PreparedRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The attempt's own id (Inventory attemptId; Pusher messageUuid). */
  attemptId: string;
}

/**
 * Stage 1: builds the envelope the event's catalog entry names and signs it for this
 * attempt. Pusher: messageId stable, messageUuid new, timestamp = when the event was
 * accepted. Inventory: id stable for every subscriber and retry, attemptId new.
 */
export function prepare(d: ClaimedDelivery, now: Date, secrets: SecretBox): PreparedRequest {
  const signingKey = secrets.open(d.signing_key, 'subscription-signing-key');
  // During a key rotation's overlap, signed with the previous key too.
  const previousKey = d.previous_signing_key === null ? null : secrets.open(d.previous_signing_key, 'subscription-signing-key');
  const payload: unknown = JSON.parse(d.payload);
  if (eventType(d.event_name)?.envelope === 'inventory') {
    // 24 hex, like the event id (FACTS: Inventory ids are ObjectIds), new per attempt.
    const attemptId = newObjectId(now);
    const env = inventoryEnvelope({
      id: d.message_id,
      attemptId,
      livemode: d.livemode,
      created: d.created_at,
      event: d.event_name,
      data: payload,
    });
    return { url: d.destination, body: env.body, headers: signRequest(env, signingKey, now, previousKey), attemptId };
  }
  const env = pusherEnvelope({
    organizationUuid: d.organization_uuid,
    eventName: d.event_name,
    messageId: d.message_id,
    payload,
    timestamp: d.created_at,
  });
  return { url: d.destination, body: env.body, headers: signRequest(env, signingKey, now, previousKey), attemptId: env.messageUuid };
}
