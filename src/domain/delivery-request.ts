/**
 * The request Herald POSTs for one delivery attempt: the two envelopes (FACTS "Signing"
 * and 002 "Inventory envelope") and the headers that go with them. The worker builds it
 * with the subscription's keys (delivery/prepare.ts); the attempt log rebuilds it from
 * what it recorded, with signatures masked (messages.ts). One function serves both, so
 * what the Console shows is what was sent. Building a body and signing it are separate
 * steps so that the body is fixed once and the signatures cover exactly those bytes.
 *
 * No key and no HMAC here: a `RequestSigner` computes the signature header values (the
 * delivery engine's signs with the keys, MASKED_SIGNER writes placeholders).
 */
import type { DeliveryRequestRow } from '../store/messages.js';
import { eventType, TEST_MESSAGE_EVENT } from './catalog.js';
import { newObjectId, newUuidV1 } from './ids.js';

/** The User-Agent of the original service; some receivers filter on it. */
export const USER_AGENT = 'PusherApplication (WebHookPushClient)';

/** A Pusher envelope, serialised, with the two fields X-iZettle-Signature covers. */
export interface PusherEnvelope {
  kind: 'pusher';
  body: string;
  /** Stable per message: Standard Webhooks' webhook-id. */
  messageId: string;
  /** New per attempt. */
  messageUuid: string;
  /** The body's `timestamp` field, as sent. */
  timestamp: string;
  /** The body's `payload` field: the payload JSON as a string. */
  payload: string;
}

/** An Inventory (payment terminals) envelope, serialised. */
export interface InventoryEnvelope {
  kind: 'inventory';
  body: string;
  /** The event id: the same for every subscriber and retry; Standard Webhooks' webhook-id. */
  id: string;
  /** New per attempt. */
  attemptId: string;
}

/** Either envelope, ready to sign. */
export type Envelope = PusherEnvelope | InventoryEnvelope;

/**
 * The Pusher envelope. `payload` is JSON-encoded into a string, as the original
 * sends it; `messageUuid` is a new v1 UUID unless given (the attempt log rebuilding an
 * attempt's body passes the one it recorded).
 */
export function pusherEnvelope(input: {
  organizationUuid: string;
  eventName: string;
  messageId: string;
  payload: unknown;
  timestamp: Date;
  messageUuid?: string;
}): PusherEnvelope {
  const messageUuid = input.messageUuid ?? newUuidV1();
  const payload = JSON.stringify(input.payload) ?? 'null';
  const timestamp = input.timestamp.toISOString();
  const body = JSON.stringify({
    organizationUuid: input.organizationUuid,
    messageUuid,
    eventName: input.eventName,
    messageId: input.messageId,
    payload,
    timestamp,
  });
  return { kind: 'pusher', body, messageId: input.messageId, messageUuid, timestamp, payload };
}

/** The Inventory envelope; `created` is sent as integer Unix seconds. */
export function inventoryEnvelope(input: {
  id: string;
  attemptId: string;
  livemode: boolean;
  created: Date;
  event: string;
  data: unknown;
}): InventoryEnvelope {
  const body = JSON.stringify({
    id: input.id,
    attemptId: input.attemptId,
    livemode: input.livemode,
    created: Math.floor(input.created.getTime() / 1000),
    event: input.event,
    data: input.data,
  });
  return { kind: 'inventory', body, id: input.id, attemptId: input.attemptId };
}

/** The test message POSTed to a destination when a subscription is created. */
export function testMessage(input: { organizationUuid: string; timestamp: Date; messageId?: string }): PusherEnvelope {
  return pusherEnvelope({
    organizationUuid: input.organizationUuid,
    eventName: TEST_MESSAGE_EVENT,
    messageId: input.messageId ?? newUuidV1(),
    payload: { data: 'payload' },
    timestamp: input.timestamp,
  });
}

/** Computes the signature header values of a request (docs/signatures.md says what each covers). */
export interface RequestSigner {
  /** Standard Webhooks' webhook-signature over `<msgId>.<timestampSeconds>.<body>`. */
  webhookSignature(msgId: string, timestampSeconds: number, body: string): string;
  /** X-iZettle-Signature (Pusher envelopes) over `<timestamp>.<payload>`. */
  pusherSignature(timestamp: string, payload: string): string;
  /** X-Herald-Signature (Inventory envelopes) over `<timestampSeconds>.<body>`. */
  heraldSignature(timestampSeconds: number, body: string): string;
}

/** What a masked signature's secret part reads. */
export const MASK = '••••••••';

/**
 * Signature values with each scheme kept and its secret part replaced: what the attempt
 * log shows. Nothing derived from a signing key goes in (no key is at hand to derive
 * from). During a key rotation's overlap the request carried one signature per key;
 * the mask shows one (the attempt log does not record which keys were in force).
 */
export const MASKED_SIGNER: RequestSigner = {
  webhookSignature: () => `v1,${MASK}`,
  pusherSignature: () => MASK,
  // The t= part is the timestamp, not a secret.
  heraldSignature: (timestampSeconds) => `t=${timestampSeconds},v1=${MASK}`,
};

/** The signature headers: the attempt log masks these. */
export const SIGNATURE_HEADERS: readonly string[] = ['webhook-signature', 'X-iZettle-Signature', 'X-Herald-Signature'];

/**
 * Every header of a delivery request: content type, user agent, the Standard Webhooks
 * headers (timestamp `now`), and X-iZettle-Signature (Pusher) or X-Herald-Signature
 * (Inventory). Called per attempt, so the timestamps are the time of sending.
 *
 * Names are written as they go on the wire (undici keeps the case it is given):
 * receivers that look headers up case-sensitively (PHP's apache_request_headers()
 * with array_key_exists('X-iZettle-Signature', ...)) find the original's spelling.
 * The Standard Webhooks headers keep that specification's lower case.
 */
export function requestHeaders(envelope: Envelope, now: Date, signer: RequestSigner): Record<string, string> {
  const seconds = Math.floor(now.getTime() / 1000);
  const msgId = envelope.kind === 'pusher' ? envelope.messageId : envelope.id;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'webhook-id': msgId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signer.webhookSignature(msgId, seconds, envelope.body),
  };
  if (envelope.kind === 'pusher') headers['X-iZettle-Signature'] = signer.pusherSignature(envelope.timestamp, envelope.payload);
  else headers['X-Herald-Signature'] = signer.heraldSignature(seconds, envelope.body);
  return headers;
}

/**
 * What the worker records as the error of an attempt it could not sign (its signing key
 * did not open): nothing was sent, so the attempt log has no request to show.
 */
export const NOT_SENT_PREFIX = 'not sent: ';

/** A delivery's facts from its stored columns (the claim's row, or the attempt log's). */
export function deliveryFactsOf(r: DeliveryRequestRow): DeliveryFacts {
  return {
    organizationUuid: r.organization_uuid,
    eventName: r.event_name,
    messageId: r.message_id,
    payload: r.payload,
    livemode: r.livemode,
    createdAt: r.created_at,
    destination: r.destination,
  };
}

/** What a delivery's request is made of: its event (as stored) and where it goes. */
export interface DeliveryFacts {
  organizationUuid: string;
  eventName: string;
  messageId: string;
  /** The event payload as stored JSON text. */
  payload: string;
  livemode: boolean;
  /** When the event was accepted. */
  createdAt: Date;
  destination: string;
}

/** A request ready to send: the destination, the exact body bytes, the headers. */
export interface DeliveryRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The attempt's own id (Inventory attemptId; Pusher messageUuid). */
  attemptId: string;
}

/**
 * The request of one attempt, made at `now`, in the envelope the event's catalog entry
 * names. Pusher: messageId stable, messageUuid the attempt's id, timestamp = when the
 * event was accepted. Inventory: id stable for every subscriber and retry, attemptId the
 * attempt's. `attemptId` absent: a new one (the worker); given: the one an attempt
 * recorded (the attempt log), so the body comes out byte for byte as it was sent.
 */
export function deliveryRequest(d: DeliveryFacts, now: Date, signer: RequestSigner, attemptId?: string): DeliveryRequest {
  const payload: unknown = JSON.parse(d.payload);
  if (eventType(d.eventName)?.envelope === 'inventory') {
    const env = inventoryEnvelope({
      id: d.messageId,
      // 24 hex, like the event id (FACTS: Inventory ids are ObjectIds), new per attempt.
      attemptId: attemptId ?? newObjectId(now),
      livemode: d.livemode,
      created: d.createdAt,
      event: d.eventName,
      data: payload,
    });
    return { url: d.destination, body: env.body, headers: requestHeaders(env, now, signer), attemptId: env.attemptId };
  }
  const env = pusherEnvelope({
    organizationUuid: d.organizationUuid,
    eventName: d.eventName,
    messageId: d.messageId,
    payload,
    timestamp: d.createdAt,
    messageUuid: attemptId,
  });
  return { url: d.destination, body: env.body, headers: requestHeaders(env, now, signer), attemptId: env.messageUuid };
}
