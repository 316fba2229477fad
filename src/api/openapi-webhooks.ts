import { Type, type TSchema } from 'typebox';
import { EVENT_TYPES, TEST_MESSAGE_EVENT, type Envelope, type EventType } from '../domain/catalog.js';
import { ObjectId, PAYLOAD_SCHEMAS } from '../domain/payload-schemas.js';
import { schemaRef, type JsonSchema, type OpenApiDocument, type OperationObject } from './openapi-document.js';

/**
 * The document's `webhooks` (OpenAPI 3.1): one entry per event of the catalog, plus the
 * TestMessage every new subscription gets, each the POST Herald sends to a subscriber:
 * the envelope, the event's payload inside it, the signature headers, and what Herald
 * does with the answer. The envelopes are described here, as schemas, by hand: the code
 * that builds them is the domain's (domain/delivery-request.ts, for the worker and the
 * attempt log), and test/api/openapi-webhooks.test.ts checks these schemas against
 * envelopes it builds.
 */

/** What Herald POSTs for a Pusher event (FACTS "Signing"; docs/signatures.md). */
export const PusherEnvelopeSchema = Type.Object(
  {
    organizationUuid: Type.String({ format: 'uuid' }),
    messageUuid: Type.String({ format: 'uuid', description: 'A version-1 UUID, new on every attempt.' }),
    eventName: Type.String({ description: 'The event (or TestMessage).' }),
    messageId: Type.String({
      format: 'uuid',
      description: 'Stable per message, across retries and resends (also webhook-id): drop duplicates by it.',
    }),
    payload: Type.String({
      contentMediaType: 'application/json',
      description: 'The payload, a JSON document **encoded as a string**: decode it a second time. X-iZettle-Signature covers this string as sent.',
    }),
    timestamp: Type.String({
      format: 'date-time',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
      description: 'When the event was accepted: ISO-8601 UTC with milliseconds. X-iZettle-Signature covers it.',
      examples: ['2021-04-19T13:17:56.585Z'],
    }),
  },
  { description: 'The Pusher envelope: every event but the payment terminals.' },
);

/** What Herald POSTs for an Inventory API event (payment terminals; docs/events.md). */
export const InventoryEnvelopeSchema = Type.Object(
  {
    id: Type.String({ ...ObjectId, description: 'The event id: the same for every subscriber and every retry (also webhook-id).' }),
    attemptId: Type.String({ ...ObjectId, description: 'New on every attempt (per subscriber, per try).' }),
    livemode: Type.Boolean({ description: 'false for an event caused with a test-mode credential.' }),
    created: Type.Integer({ description: 'When the event was emitted, in Unix seconds.', examples: [1618838276] }),
    event: Type.String({ description: 'The event name.' }),
    data: Type.Object({}, { additionalProperties: true, description: 'The resource.' }),
  },
  { description: 'The Inventory envelope: the payment terminals events.' },
);

const ENVELOPE_SCHEMA_NAMES: Record<Envelope, string> = { pusher: 'PusherEnvelope', inventory: 'InventoryEnvelope' };

/** A header Herald sends with every delivery, as an OpenAPI parameter. */
const header = (name: string, description: string, example: string) => ({
  in: 'header',
  name,
  required: true,
  description,
  schema: { type: 'string' },
  example,
});

const STANDARD_WEBHOOKS_HEADERS = [
  header('webhook-id', 'Standard Webhooks: the message id (Pusher messageId, Inventory id), stable across retries.', '0b5cbb94-1b8f-5c1d-9d6a-4a1f0e0d2c11'),
  header('webhook-timestamp', 'Standard Webhooks: Unix seconds when this attempt was sent. Reject one far from your clock.', '1618838276'),
  header(
    'webhook-signature',
    'Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the signingKey (secret `whsec_` + base64(signingKey)); two space-separated entries during a key rotation.',
    'v1,UYNg2wKqH4Y2cA38TAkNpYu5/Tt8tM9VTNm2S8utDrw=',
  ),
  header('User-Agent', "The original service's: some receivers filter on it.", 'PusherApplication (WebHookPushClient)'),
];

const SIGNATURE_HEADERS: Record<Envelope, ReturnType<typeof header>> = {
  pusher: header(
    'X-iZettle-Signature',
    "The original's signature: lowercase hex HMAC-SHA256 of `<timestamp>.<payload>` (the two body fields, as strings), keyed with the subscription's signingKey. Receivers in the field skip it for TestMessage.",
    '57720df8ea7e8c172afbba3cf4badee34a2c9f3a859c3520afaed71e295bc0d7',
  ),
  inventory: header(
    'X-Herald-Signature',
    '`t=<unix>,v1=<hex HMAC-SHA256 of <t>.<raw body>>`, keyed with the signingKey; two v1 values during a key rotation.',
    't=1618838276,v1=84a131fd051db05bd606513a7974034dd5a54307d800f88c6b314a6c4c424fe9',
  ),
};

/** What Herald does with the receiver's answer (docs/delivery.md). */
const WEBHOOK_RESPONSES = {
  '2XX': { description: 'Delivered: any 2xx within 10 s (HERALD_DELIVERY_TIMEOUT_MS). The body is not read beyond its first 4 KiB, kept in the attempt log.' },
  '410': {
    description: 'Gone: Herald stops delivering to this subscription at once: it is deleted, its pending deliveries cancelled, its contact mailed.',
  },
  '429': {
    description: "Slow down: a failed attempt, retried on schedule; a Retry-After (also on 503) pauses every delivery to the destination's origin until then (at most an hour).",
  },
  default: {
    description:
      'Any other answer (a 3xx too: redirects are not followed), or none within 10 s: the attempt failed, the subscription turns FAILING, and Herald retries on its schedule (about 70 hours by default).',
  },
};

/** The payload of TestMessage, sent to a new subscription's destination. */
const TestMessagePayloadSchema = Type.Object(
  { data: Type.Literal('payload') },
  { title: 'TestMessage', description: 'Always {"data": "payload"}.', examples: [{ data: 'payload' }] },
);

/** Events the spec gives no payload: Herald delivers what their producer published (or its own, docs/events.md). */
const openPayload = (event: EventType) =>
  Type.Object(
    {},
    {
      additionalProperties: true,
      description:
        event.scope === null
          ? "Herald's own carries `type` (the event's name) and the fields docs/events.md lists; a producer that publishes the event may send any JSON object."
          : 'Any JSON object: the spec documents no payload; Herald delivers what the producer published, unchanged.',
    },
  );

/** `paymentTerminals.created` -> `PaymentTerminalsCreated`: a component name. */
const pascal = (name: string) => name.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

/** What a subscriber can receive (an event of the catalog, or TestMessage), as its webhook describes it. */
interface Delivery {
  name: string;
  envelope: Envelope;
  summary: string;
  /** Who receives it. */
  about: string;
  /** Its payload's schema, and the schema's component name. */
  payload: { name: string; schema: TSchema };
}

/** The event's payload schema, named by its title (Product serves ProductCreated and ProductDeleted). */
function payloadOf(event: EventType): Delivery['payload'] {
  const schema = PAYLOAD_SCHEMAS[event.name];
  if (!schema) return { name: `${pascal(event.name)}Payload`, schema: openPayload(event) };
  const title = (schema as { title?: unknown }).title;
  return { name: pascal(typeof title === 'string' ? title : event.name), schema };
}

/** Who may subscribe to an event, and what else arrives under its name (the catalog's alsoFor). */
function subscribersOf(event: EventType): string {
  const scope = event.scope === null ? 'Any valid credential may subscribe to it.' : `Subscribing needs the scope ${event.scope}.`;
  const alsoFrom = EVENT_TYPES.filter((e) => e.alsoFor?.includes(event.name)).map((e) => e.name);
  const also = alsoFrom.length
    ? ` A subscription to ${event.name} that does not name ${alsoFrom.join(' or ')} also receives ${alsoFrom.join(' and ')} under this name, its payload unchanged (\`type\` tells them apart).`
    : '';
  return scope + also;
}

const deliveryOf = (event: EventType): Delivery => ({
  name: event.name,
  envelope: event.envelope,
  summary: event.trigger,
  about: subscribersOf(event),
  payload: payloadOf(event),
});

const TEST_MESSAGE: Delivery = {
  name: TEST_MESSAGE_EVENT,
  envelope: 'pusher',
  summary: "A new subscription's destination is checked.",
  about: 'POSTed once when a subscription is created, signed with its new key; the destination must answer 2xx or the creation fails (docs/pusher-api.md).',
  payload: { name: 'TestMessagePayload', schema: TestMessagePayloadSchema },
};

/** The envelope of one delivery: the envelope's schema, its event name fixed and its payload's schema given. */
function envelopeOf(d: Delivery): JsonSchema {
  const specific =
    d.envelope === 'pusher'
      ? { eventName: { const: d.name }, payload: { contentMediaType: 'application/json', contentSchema: schemaRef(d.payload.name) } }
      : { event: { const: d.name }, data: schemaRef(d.payload.name) };
  return {
    description: `The ${d.envelope === 'pusher' ? 'Pusher' : 'Inventory'} envelope of ${d.name}.`,
    allOf: [schemaRef(ENVELOPE_SCHEMA_NAMES[d.envelope]), { type: 'object', properties: specific }],
  };
}

/** An example body, around the payload schema's example (none without one). */
function exampleOf(d: Delivery): unknown {
  const data = (d.payload.schema as { examples?: unknown[] }).examples?.[0];
  if (data === undefined) return undefined;
  if (d.envelope === 'inventory') {
    return { id: '5faa9b421fd0a43a3ab2a8c1', attemptId: '5faa9b421fd0a43a3ab2a8c2', livemode: true, created: 1618838276, event: d.name, data };
  }
  return {
    organizationUuid: (data as { organizationUuid?: string }).organizationUuid ?? '8a4f5e10-a10b-11eb-8f00-0242ac130003',
    messageUuid: '2f6d3a80-a10c-11eb-8f00-0242ac130003',
    eventName: d.name,
    messageId: '0b5cbb94-1b8f-5c1d-9d6a-4a1f0e0d2c11',
    payload: JSON.stringify(data),
    timestamp: '2021-04-19T13:17:56.585Z',
  };
}

/** The webhook of one delivery: the POST a subscriber receives. */
function webhookOf(d: Delivery): OperationObject {
  const example = exampleOf(d);
  return {
    operationId: `receive${pascal(d.name)}`,
    tags: ['webhooks'],
    // The receiver authenticates Herald by the signature headers, not by a credential Herald presents.
    security: [],
    summary: d.summary,
    description:
      `${d.about}\n\nThe ${d.envelope === 'pusher' ? 'Pusher' : 'Inventory'} envelope, signed three ways (docs/signatures.md); ` +
      'delivered at least once: drop duplicates by webhook-id.',
    parameters: [SIGNATURE_HEADERS[d.envelope], ...STANDARD_WEBHOOKS_HEADERS],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: schemaRef(`${pascal(d.name)}Envelope`), ...(example === undefined ? {} : { example }) } },
    },
    responses: WEBHOOK_RESPONSES,
  };
}

/**
 * Adds `webhooks` to the document, with the envelope and payload schemas they name
 * (PusherEnvelope, InventoryEnvelope, ProductCreatedEnvelope, Product...).
 */
export function withWebhooks(doc: OpenApiDocument): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { ...doc.components.schemas };
  const add = (name: string, schema: JsonSchema) => {
    const known = schemas[name];
    if (known !== undefined && known !== schema) throw new Error(`OpenAPI: two schemas named ${name}`);
    schemas[name] = schema;
  };
  add(ENVELOPE_SCHEMA_NAMES.pusher, PusherEnvelopeSchema);
  add(ENVELOPE_SCHEMA_NAMES.inventory, InventoryEnvelopeSchema);
  const webhooks: Record<string, Record<string, OperationObject>> = {};
  for (const d of [...EVENT_TYPES.map(deliveryOf), TEST_MESSAGE]) {
    add(d.payload.name, d.payload.schema);
    add(`${pascal(d.name)}Envelope`, envelopeOf(d));
    webhooks[d.name] = { post: webhookOf(d) };
  }
  return { ...doc, webhooks, components: { ...doc.components, schemas } };
}
