/**
 * The two request bodies Herald sends (FACTS "Signing" and 002 "Inventory envelope"),
 * and the headers that go with them. Building a body and signing it are separate
 * steps so that the body is fixed once and the signatures cover exactly those bytes.
 */
import { TEST_MESSAGE_EVENT } from '../domain/catalog.js';
import { newUuidV1 } from '../domain/ids.js';
import { heraldSignature, pusherSignature, standardWebhooksHeaders } from './sign.js';

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
 * sends it; `messageUuid` is a new v1 UUID, so call this once per attempt.
 */
export function pusherEnvelope(input: {
  organizationUuid: string;
  eventName: string;
  messageId: string;
  payload: unknown;
  timestamp: Date;
}): PusherEnvelope {
  const messageUuid = newUuidV1();
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

/**
 * Every header of a delivery request: content type, user agent, the Standard Webhooks
 * headers (timestamp `now`), and X-iZettle-Signature (Pusher) or X-Herald-Signature
 * (Inventory). Call it per attempt, so the timestamps are the time of sending.
 *
 * Names are written as they go on the wire (undici keeps the case it is given):
 * receivers that look headers up case-sensitively (PHP's apache_request_headers()
 * with array_key_exists('X-iZettle-Signature', ...)) find the original's spelling.
 * The Standard Webhooks headers keep that specification's lower case.
 */
export function signRequest(envelope: Envelope, signingKey: string, now: Date, previousKey?: string | null): Record<string, string> {
  const seconds = Math.floor(now.getTime() / 1000);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
  };
  const msgId = envelope.kind === 'pusher' ? envelope.messageId : envelope.id;
  Object.assign(headers, standardWebhooksHeaders({ signingKey, previousKey, msgId, timestampSeconds: seconds, body: envelope.body }));
  if (envelope.kind === 'pusher') {
    // One signature only (the original's receivers compare the whole header): during a
    // rotation's overlap, the previous key's, so they keep working until it ends.
    headers['X-iZettle-Signature'] = pusherSignature(previousKey ?? signingKey, envelope.timestamp, envelope.payload);
  } else {
    headers['X-Herald-Signature'] = heraldSignature(signingKey, seconds, envelope.body, previousKey);
  }
  return headers;
}
