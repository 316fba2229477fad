import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { isUuidV1 } from '../../src/domain/ids.js';
import { inventoryEnvelope, pusherEnvelope, testMessage } from '../../src/domain/delivery-request.js';
import { signRequest } from '../../src/delivery/envelopes.js';
import { heraldSignature, pusherSignature, standardWebhooksHeaders, standardWebhooksSecret } from '../../src/delivery/sign.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const ORG = '8a4f5e10-a10b-11eb-8f00-0242ac130003';
const KEY = 'Ea1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tUv1wX2yZ3aB4cD5eF6gH7iJ8kL9mN0oP1';

// A receiver's checks, written the way the docs tell a receiver to write them.
const hmacHex = (key: string, msg: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(msg).digest('hex');

describe('pusherEnvelope', () => {
  const at = new Date('2021-04-19T13:17:56.585Z');
  const payload = { purchaseUuid: 'e2b0c9d0-a10b-11eb-8f00-0242ac130003', amount: 1200, note: 'ünïcødé "q"' };
  const env = pusherEnvelope({ organizationUuid: ORG, eventName: 'PurchaseCreated', messageId: 'm-1', payload, timestamp: at });

  it('has exactly the six fields, in order', () => {
    const body = JSON.parse(env.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['organizationUuid', 'messageUuid', 'eventName', 'messageId', 'payload', 'timestamp']);
    assert.equal(body.organizationUuid, ORG);
    assert.equal(body.eventName, 'PurchaseCreated');
    assert.equal(body.messageId, 'm-1');
  });
  it('carries the payload as a JSON string', () => {
    const body = JSON.parse(env.body) as { payload: unknown };
    assert.equal(typeof body.payload, 'string');
    assert.deepEqual(JSON.parse(body.payload as string), payload);
    assert.equal(env.payload, body.payload);
  });
  it('sends the timestamp as ISO-8601 with milliseconds and Z', () => {
    const body = JSON.parse(env.body) as { timestamp: string };
    assert.equal(body.timestamp, '2021-04-19T13:17:56.585Z');
    const whole = pusherEnvelope({ organizationUuid: ORG, eventName: 'E', messageId: 'm', payload: 1, timestamp: new Date(Date.UTC(2024, 0, 1)) });
    assert.equal((JSON.parse(whole.body) as { timestamp: string }).timestamp, '2024-01-01T00:00:00.000Z');
  });
  it('has a new v1 messageUuid each time, and a stable messageId', () => {
    const again = pusherEnvelope({ organizationUuid: ORG, eventName: 'PurchaseCreated', messageId: 'm-1', payload, timestamp: at });
    const a = JSON.parse(env.body) as { messageUuid: string; messageId: string };
    const b = JSON.parse(again.body) as { messageUuid: string; messageId: string };
    assert.ok(isUuidV1(a.messageUuid) && isUuidV1(b.messageUuid));
    assert.notEqual(a.messageUuid, b.messageUuid);
    assert.equal(a.messageId, b.messageId);
    assert.equal(env.messageUuid, a.messageUuid);
  });
});

describe('inventoryEnvelope', () => {
  const data = { uuid: '5f243d100617680712e78dd8', name: 'Counter 1', createdAt: { value: '2020-11-10T13:22:10Z', offset: 60 } };
  const env = inventoryEnvelope({
    id: '5faa9b421fd0a43a3ab2a8c1',
    attemptId: '5faa9b421fd0a43a3ab2a8c2',
    livemode: false,
    created: new Date(1605014530_999),
    event: 'paymentTerminals.created',
    data,
  });
  it('has exactly id, attemptId, livemode, created (Unix seconds), event, data', () => {
    assert.deepEqual(JSON.parse(env.body), {
      id: '5faa9b421fd0a43a3ab2a8c1',
      attemptId: '5faa9b421fd0a43a3ab2a8c2',
      livemode: false,
      created: 1605014530,
      event: 'paymentTerminals.created',
      data,
    });
    assert.deepEqual(Object.keys(JSON.parse(env.body) as object), ['id', 'attemptId', 'livemode', 'created', 'event', 'data']);
    assert.ok(Number.isInteger((JSON.parse(env.body) as { created: number }).created));
  });
});

describe('testMessage', () => {
  it('is a Pusher envelope for TestMessage with payload {"data":"payload"} as a string', () => {
    const env = testMessage({ organizationUuid: ORG, timestamp: new Date('2021-04-19T13:17:56.585Z') });
    const body = JSON.parse(env.body) as Record<string, string>;
    assert.equal(body.eventName, 'TestMessage');
    assert.equal(body.payload, '{"data":"payload"}');
    assert.equal(body.organizationUuid, ORG);
    assert.ok(isUuidV1(body.messageUuid!));
    assert.ok(body.messageId);
    assert.equal(testMessage({ organizationUuid: ORG, timestamp: new Date(), messageId: 'x' }).messageId, 'x');
  });
});

describe('signRequest', () => {
  const now = new Date();
  const unix = Math.floor(now.getTime() / 1000);

  it('signs a Pusher envelope with X-iZettle-Signature and Standard Webhooks headers', () => {
    const env = pusherEnvelope({ organizationUuid: ORG, eventName: 'ProductCreated', messageId: 'msg-7', payload: { a: [1, 2] }, timestamp: now });
    const h = signRequest(env, KEY, now);
    // The original's spelling, exactly (receivers look headers up case-sensitively).
    assert.deepEqual(Object.keys(h).sort(), [
      'Content-Type', 'User-Agent', 'X-iZettle-Signature', 'webhook-id', 'webhook-signature', 'webhook-timestamp',
    ]);
    assert.equal(h['Content-Type'], 'application/json');
    assert.equal(h['User-Agent'], 'PusherApplication (WebHookPushClient)');
    assert.equal(h['webhook-id'], 'msg-7');
    assert.equal(h['webhook-timestamp'], String(unix));
    const body = JSON.parse(env.body) as { timestamp: string; payload: string };
    assert.equal(h['X-iZettle-Signature'], hmacHex(KEY, `${body.timestamp}.${body.payload}`));
    assert.deepEqual(new Webhook(standardWebhooksSecret(KEY)).verify(env.body, h), JSON.parse(env.body));
  });

  it('signs an Inventory envelope with X-Herald-Signature and Standard Webhooks headers', () => {
    const env = inventoryEnvelope({ id: 'evt-1', attemptId: 'att-1', livemode: true, created: now, event: 'paymentTerminals.updated', data: { x: 1 } });
    const h = signRequest(env, KEY, now);
    assert.equal(h['X-iZettle-Signature'], undefined);
    assert.equal(h['webhook-id'], 'evt-1');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h['X-Herald-Signature']!);
    assert.ok(m);
    assert.equal(m[1], String(unix));
    assert.equal(m[2], hmacHex(KEY, `${m[1]}.${env.body}`));
    assert.deepEqual(new Webhook(standardWebhooksSecret(KEY)).verify(env.body, h), JSON.parse(env.body));
  });

  it('signatures verify for random keys, payloads and envelopes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), fc.jsonValue(), fc.boolean(), (key, payload, pusher) => {
        const env = pusher
          ? pusherEnvelope({ organizationUuid: ORG, eventName: 'E', messageId: 'm', payload, timestamp: now })
          : inventoryEnvelope({ id: 'i', attemptId: 'a', livemode: false, created: now, event: 'e', data: payload });
        const h = signRequest(env, key, now);
        new Webhook(standardWebhooksSecret(key)).verify(env.body, h);
        if (env.kind === 'pusher') {
          const b = JSON.parse(env.body) as { timestamp: string; payload: string };
          assert.equal(h['X-iZettle-Signature'], hmacHex(key, `${b.timestamp}.${b.payload}`));
        } else {
          assert.equal(h['X-Herald-Signature'], `t=${unix},v1=${hmacHex(key, `${unix}.${env.body}`)}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  describe('over a real HTTP hop', () => {
    let receiver: TestReceiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(() => receiver.close());

    it('the receiver verifies what it received byte for byte', async () => {
      const env = pusherEnvelope({ organizationUuid: ORG, eventName: 'PurchaseCreated', messageId: 'm-9', payload: { s: 'é€😀' }, timestamp: now });
      await fetch(receiver.url, { method: 'POST', body: env.body, headers: signRequest(env, KEY, now) });
      const [req] = await receiver.waitFor(1);
      const headers = Object.fromEntries(Object.entries(req!.headers).map(([k, v]) => [k, String(v)]));
      new Webhook(standardWebhooksSecret(KEY)).verify(req!.body, headers);
      const b = req!.json as { timestamp: string; payload: string };
      assert.equal(headers['x-izettle-signature'], hmacHex(KEY, `${b.timestamp}.${b.payload}`));
      assert.equal(headers['user-agent'], 'PusherApplication (WebHookPushClient)');
    });
  });
});

describe('docs/signatures.md worked example', () => {
  const doc = readFileSync(new URL('../../docs/signatures.md', import.meta.url), 'utf8');
  // The example's inputs, as the doc states them.
  const key = '7d1c0f3e9a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d';
  const pusherBody =
    '{"organizationUuid":"8a4f5e10-a10b-11eb-8f00-0242ac130003","messageUuid":"2f6d3a80-a10c-11eb-8f00-0242ac130003","eventName":"ProductCreated","messageId":"0b5cbb94-1b8f-5c1d-9d6a-4a1f0e0d2c11","payload":"{\\"uuid\\":\\"4c2e8c40-a10c-11eb-8f00-0242ac130003\\",\\"name\\":\\"Latte\\"}","timestamp":"2021-04-19T13:17:56.585Z"}';
  const inventoryBody =
    '{"id":"5faa9b421fd0a43a3ab2a8c1","attemptId":"5faa9b421fd0a43a3ab2a8c2","livemode":false,"created":1618838276,"event":"paymentTerminals.created","data":{"name":"Counter 1"}}';
  const unix = 1618838276;

  it('states the inputs', () => {
    for (const s of [key, pusherBody, inventoryBody, String(unix), standardWebhooksSecret(key)]) {
      assert.ok(doc.includes(s), `docs/signatures.md should contain ${s}`);
    }
  });
  it('states the signatures these inputs give', () => {
    const p = JSON.parse(pusherBody) as { timestamp: string; payload: string; messageId: string };
    const inv = JSON.parse(inventoryBody) as { id: string };
    const values = [
      pusherSignature(key, p.timestamp, p.payload),
      standardWebhooksHeaders({ signingKey: key, msgId: p.messageId, timestampSeconds: unix, body: pusherBody })['webhook-signature'],
      standardWebhooksHeaders({ signingKey: key, msgId: inv.id, timestampSeconds: unix, body: inventoryBody })['webhook-signature'],
      heraldSignature(key, unix, inventoryBody),
    ];
    for (const v of values) assert.ok(doc.includes(v), `docs/signatures.md should contain ${v}`);
  });
});
