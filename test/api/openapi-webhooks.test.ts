// The document's `webhooks` (issue 10) describe what Herald really sends: one entry per
// event of the catalog (and TestMessage), whose envelope schema accepts the envelope the
// delivery engine sends (src/domain/delivery-request.ts) with exactly its fields, whose
// payload schema is the catalog's, and whose header parameters are the headers it signs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Compile } from 'typebox/compile';
import { InventoryEnvelopeSchema, PusherEnvelopeSchema } from '../../src/api/openapi-webhooks.js';
import { inventoryEnvelope, pusherEnvelope, testMessage, type Envelope } from '../../src/domain/delivery-request.js';
import { signRequest } from '../../src/delivery/envelopes.js';
import { EVENT_TYPES, TEST_MESSAGE_EVENT } from '../../src/domain/catalog.js';
import { inventoryEventId, newObjectId, pusherMessageId } from '../../src/domain/ids.js';
import { PAYLOAD_SCHEMAS } from '../../src/domain/payload-schemas.js';
import { EVENTS_WITH_EXAMPLES, originalPayloadExample } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

type Json = Record<string, unknown>;
type Webhook = { post: { parameters: { in: string; name: string }[]; requestBody: { content: Record<string, { schema: { $ref: string } }> } } };
type Doc = { webhooks: Record<string, Webhook>; components: { schemas: Record<string, Json> } };

const ORG = '8a4f5e10-a10b-11eb-8f00-0242ac130003';
const KEY = 'Ea1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tUv1wX2yZ3aB4cD5eF6gH7iJ8kL9mN0oP1';
const AT = new Date('2021-04-19T13:17:56.585Z');

const checkPusher = Compile(PusherEnvelopeSchema);
const checkInventory = Compile(InventoryEnvelopeSchema);
/** A TypeBox schema as the document shows it (its hidden keys dropped). */
const asJson = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Json;

const details = (name: string) => ({
  organizationUuid: ORG,
  ...Object.fromEntries(['legalName', 'contactEmail', 'phoneNumber', 'address', 'addressLine2', 'zipCode', 'city', 'language', 'timeZone', 'websiteUrl'].map((k) => [k, ''])),
  name,
  country: 'SE',
  currency: 'SEK',
  created: '2021-04-19T13:17:56.585+0000',
  updated: '2021-04-19T13:17:56.585+0000',
});

/** A payload the event's schema accepts: the schema's example, the spec's, one of Herald's (OrganizationUpdated), else any object. */
function payloadFor(eventName: string): Json {
  const example = (PAYLOAD_SCHEMAS[eventName] as { examples?: Json[] } | undefined)?.examples?.[0];
  if (example) return example;
  if (EVENTS_WITH_EXAMPLES.includes(eventName)) return originalPayloadExample(eventName);
  if (eventName === 'OrganizationUpdated') return { organizationUuid: ORG, newEntity: details('Acme Coffee'), oldEntity: details('Acme') };
  assert.equal(PAYLOAD_SCHEMAS[eventName], undefined, `${eventName}: give the test a payload its schema accepts`);
  return { organizationUuid: ORG, note: 'any JSON object' };
}

/** The envelope the delivery engine builds for an event. */
function envelopeFor(eventName: string): Envelope {
  if (eventName === TEST_MESSAGE_EVENT) return testMessage({ organizationUuid: ORG, timestamp: AT, messageId: pusherMessageId() });
  const event = EVENT_TYPES.find((e) => e.name === eventName)!;
  if (event.envelope === 'inventory') {
    return inventoryEnvelope({ id: inventoryEventId(AT), attemptId: newObjectId(AT), livemode: false, created: AT, event: eventName, data: payloadFor(eventName) });
  }
  return pusherEnvelope({ organizationUuid: ORG, eventName, messageId: pusherMessageId(), payload: payloadFor(eventName), timestamp: AT });
}

describe('OpenAPI: webhooks', () => {
  let h: TestHerald;
  let doc: Doc;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    doc = (await (await h.request('/openapi.json')).json()) as Doc;
  });
  after(() => h?.stop());

  const component = (ref: string) => {
    const name = ref.replace('#/components/schemas/', '');
    const schema = doc.components.schemas[name];
    assert.ok(schema, `${ref} is in components.schemas`);
    return schema;
  };

  it('has one webhook per event of the catalog, and TestMessage', () => {
    assert.deepEqual(Object.keys(doc.webhooks).sort(), [...EVENT_TYPES.map((e) => e.name), TEST_MESSAGE_EVENT].sort());
  });

  it("the envelope schemas accept the delivery engine's envelopes, and name exactly their fields", () => {
    for (const name of Object.keys(doc.webhooks)) {
      const env = envelopeFor(name);
      const body = JSON.parse(env.body) as Json;
      const schema = env.kind === 'pusher' ? PusherEnvelopeSchema : InventoryEnvelopeSchema;
      const check = env.kind === 'pusher' ? checkPusher : checkInventory;
      assert.ok(check.Check(body), `${name}: ${JSON.stringify([...check.Errors(body)])}`);
      assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(body).sort(), name);
      assert.deepEqual([...(schema.required as string[])].sort(), Object.keys(body).sort(), `${name}: every field is always sent`);
      // The document serves these very schemas.
      assert.deepEqual(doc.components.schemas[env.kind === 'pusher' ? 'PusherEnvelope' : 'InventoryEnvelope'], asJson(schema));
    }
  });

  it("each webhook's envelope fixes its event name and gives the catalog's payload schema", () => {
    for (const [name, hook] of Object.entries(doc.webhooks)) {
      const envelope = component(hook.post.requestBody.content['application/json']!.schema.$ref) as { allOf: [{ $ref: string }, { properties: Json }] };
      const env = envelopeFor(name);
      const body = JSON.parse(env.body) as Json;
      const [base, specific] = envelope.allOf;
      assert.equal(base.$ref, `#/components/schemas/${env.kind === 'pusher' ? 'PusherEnvelope' : 'InventoryEnvelope'}`, name);
      const nameField = env.kind === 'pusher' ? 'eventName' : 'event';
      assert.deepEqual(specific.properties[nameField], { const: name });
      assert.equal(body[nameField], name);

      // The payload: inside the Pusher envelope a JSON string, in the Inventory one the object itself.
      const payloadSchema =
        env.kind === 'pusher'
          ? component(((specific.properties.payload as Json).contentSchema as { $ref: string }).$ref)
          : component((specific.properties.data as { $ref: string }).$ref);
      const payload = env.kind === 'pusher' ? (JSON.parse(body.payload as string) as unknown) : body.data;
      const catalogs = PAYLOAD_SCHEMAS[name];
      if (catalogs) assert.deepEqual(payloadSchema, asJson(catalogs), `${name}: the catalog's payload schema`);
      const check = Compile(payloadSchema);
      assert.ok(check.Check(payload), `${name}: ${JSON.stringify([...check.Errors(payload)])}`);
    }
  });

  it('each webhook names the headers Herald signs the request with', () => {
    for (const [name, hook] of Object.entries(doc.webhooks)) {
      const sent = Object.keys(signRequest(envelopeFor(name), KEY, AT))
        // The request body's media type says Content-Type (OpenAPI ignores it as a parameter).
        .filter((h) => h.toLowerCase() !== 'content-type')
        .map((h) => h.toLowerCase())
        .sort();
      const documented = hook.post.parameters.filter((p) => p.in === 'header').map((p) => p.name.toLowerCase()).sort();
      assert.deepEqual(documented, sent, name);
    }
  });
});
