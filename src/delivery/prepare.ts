import { deliveryFactsOf, deliveryRequest, type DeliveryRequest } from '../domain/delivery-request.js';
import type { SecretBox } from '../domain/sealed-secrets.js';
import type { ClaimedDelivery } from '../store/sql/claim-deliveries.js';
import { keySigner } from './envelopes.js';

/** A request ready to send: the destination, the exact body bytes, the signed headers. */
export type PreparedRequest = DeliveryRequest;

/**
 * Stage 1: builds the envelope the event's catalog entry names and signs it for this
 * attempt (domain/delivery-request.ts). Pusher: messageId stable, messageUuid new,
 * timestamp = when the event was accepted. Inventory: id stable for every subscriber and
 * retry, attemptId new.
 *
 * `now` is the attempt's start: the worker records it as the attempt's started_at, and
 * the request's id as its attempt_id, so the attempt log rebuilds this request exactly
 * (messages.ts attemptsOf).
 */
export function prepare(d: ClaimedDelivery, now: Date, secrets: SecretBox): PreparedRequest {
  const signingKey = secrets.open(d.signing_key, 'subscription-signing-key');
  // During a key rotation's overlap, signed with the previous key too.
  const previousKey = d.previous_signing_key === null ? null : secrets.open(d.previous_signing_key, 'subscription-signing-key');
  return deliveryRequest(deliveryFactsOf(d), now, keySigner(signingKey, previousKey));
}
