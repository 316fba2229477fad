/**
 * The two bodies Herald sends, decoded: the Pusher envelope (its `payload` is a JSON
 * document in a string, parsed here; the string is kept as `rawPayload`, which is what
 * X-iZettle-Signature covers) and the Inventory envelope. Payload types come from
 * Herald's event catalog (events.ts is generated from it).
 */
import type { InventoryData, PusherPayloads } from './events.js';

export type PusherEventName = keyof PusherPayloads;
export type InventoryEventName = keyof InventoryData;

/** A Pusher envelope; narrow on `eventName` to get its payload's type. */
export type PusherDelivery = {
  [N in PusherEventName]: {
    envelope: 'pusher';
    organizationUuid: string;
    /** New on every attempt. */
    messageUuid: string;
    eventName: N;
    /** Stable across retries. */
    messageId: string;
    /** When the event was accepted (ISO 8601). */
    timestamp: string;
    payload: PusherPayloads[N];
    /** The payload as sent: a JSON document in a string. */
    rawPayload: string;
  };
}[PusherEventName];

/** An Inventory (payment terminals) envelope; narrow on `event` to get its data's type. */
export type InventoryDelivery = {
  [N in InventoryEventName]: {
    envelope: 'inventory';
    /** The event id (an ObjectId), stable across retries and subscribers. */
    id: string;
    /** New on every attempt. */
    attemptId: string;
    livemode: boolean;
    /** Unix seconds. */
    created: number;
    event: N;
    data: InventoryData[N];
  };
}[InventoryEventName];

export type Delivery = PusherDelivery | InventoryDelivery;

/** The body as a JSON object, or undefined. */
export function jsonObject(body: Uint8Array | string): Record<string, unknown> | undefined {
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a body Herald sent (verify it first: verifyDelivery does both). Undefined when
 * it is neither envelope. Events Herald adds later decode too, typed as the known ones.
 */
export function decodeEnvelope(body: Uint8Array | string): Delivery | undefined {
  const o = jsonObject(body);
  if (!o) return undefined;
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  if (typeof o.eventName === 'string' && typeof o.payload === 'string') {
    const organizationUuid = str('organizationUuid');
    const messageUuid = str('messageUuid');
    const messageId = str('messageId');
    const timestamp = str('timestamp');
    if (organizationUuid === undefined || messageUuid === undefined || messageId === undefined || timestamp === undefined) return undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(o.payload);
    } catch {
      return undefined;
    }
    return {
      envelope: 'pusher',
      organizationUuid,
      messageUuid,
      eventName: o.eventName,
      messageId,
      timestamp,
      payload,
      rawPayload: o.payload,
    } as PusherDelivery;
  }
  if (typeof o.event === 'string' && 'data' in o) {
    const id = str('id');
    const attemptId = str('attemptId');
    if (id === undefined || attemptId === undefined || typeof o.livemode !== 'boolean' || !Number.isInteger(o.created)) return undefined;
    return { envelope: 'inventory', id, attemptId, livemode: o.livemode, created: o.created as number, event: o.event, data: o.data } as InventoryDelivery;
  }
  return undefined;
}
