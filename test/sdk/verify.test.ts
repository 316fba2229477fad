// The receiver SDK (packages/webhooks) against real deliveries from a running Herald:
// every event type in the catalog, each verified by every signature it carries and
// decoded to what was published; then what it refuses, and why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { verifyDelivery, WebhookVerificationError, type RefusalReason, type Verified, type VerifyOptions } from '../../packages/webhooks/src/index.js';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { INVENTORY_EXAMPLES, PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

const pglite = testDatabases().find((b) => b.name === 'pglite')!;

/** What each event is published with: the spec's example where there is one. */
function examplePayload(name: string): Record<string, unknown> {
  return PUSHER_EXAMPLES[name]?.payload ?? INVENTORY_EXAMPLES[name]?.data ?? { example: name };
}

/** Refused, for this reason. */
async function refused(reason: RefusalReason, body: string, headers: ReceivedRequest['headers'], options: VerifyOptions): Promise<void> {
  await assert.rejects(verifyDelivery(body, headers, options), (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

describe('herald-webhooks: real deliveries', () => {
  let h: TestHerald;
  let receiver: TestReceiver;
  let cred: TestCredential;
  let signingKey: string;
  /** Each delivered event request, by event name. */
  const byEvent = new Map<string, ReceivedRequest>();
  const published = new Map<string, string>(); // event -> messageId

  before(async () => {
    receiver = await startReceiver();
    h = await startTestHerald(pglite, { roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000 } });
    cred = await createCredential(h, ALL_SCOPES);
    const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
      uuid: uuidv1(),
      transportName: 'WEBHOOK',
      eventNames: [],
      destination: `${receiver.url}/hook`,
      contactEmail: 'sdk@example.com',
    });
    assert.equal(res.status, 200, await res.clone().text());
    signingKey = ((await res.json()) as { signingKey: string }).signingKey;
    receiver.reset();
    for (const e of EVENT_TYPES) {
      if (e.name === 'OrganizationUpdated') {
        // No example in the spec: made by the business API that emits it.
        const put = await asCredential(h, cred)('PUT', '/organizations/self', { name: 'Receiver SDK Café', contactEmail: 'sdk@example.com' });
        assert.equal(put.status, 200, await put.clone().text());
        continue;
      }
      const r = await h.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName: e.name, payload: examplePayload(e.name) }),
      });
      assert.equal(r.status, 202, `${e.name}: ${await r.clone().text()}`);
      published.set(e.name, ((await r.json()) as { messageId: string }).messageId);
    }
    h.worker!.wake();
    // One each (a subscription to every event gets PersonalAssertionDeleted under its own name only).
    await receiver.waitFor(EVENT_TYPES.length);
    for (const req of receiver.requests) {
      const j = req.json as { eventName?: string; event?: string };
      byEvent.set(j.eventName ?? j.event!, req);
    }
  });
  after(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('verifies every event type with each signature it carries, and decodes it to what was published', async () => {
    assert.deepEqual([...byEvent.keys()].sort(), EVENT_TYPES.map((e) => e.name).sort());
    for (const e of EVENT_TYPES) {
      const req = byEvent.get(e.name)!;
      const schemes = e.envelope === 'pusher' ? (['standard-webhooks', 'izettle', 'auto'] as const) : (['standard-webhooks', 'herald', 'auto'] as const);
      for (const scheme of schemes) {
        const d: Verified = await verifyDelivery(req.body, req.headers, { keys: signingKey, scheme });
        assert.equal(d.scheme, scheme === 'auto' ? 'standard-webhooks' : scheme);
        if (d.envelope === 'pusher' && d.eventName === 'OrganizationUpdated') {
          assert.equal(d.payload.newEntity.name, 'Receiver SDK Café');
          assert.equal(d.webhookId, d.messageId);
        } else if (d.envelope === 'pusher') {
          assert.equal(e.envelope, 'pusher');
          assert.equal(d.eventName, e.name);
          assert.equal(d.webhookId, published.get(e.name));
          assert.equal(d.messageId, published.get(e.name));
          assert.equal(d.organizationUuid, cred.organizationUuid);
          assert.deepEqual(d.payload, examplePayload(e.name));
        } else {
          assert.equal(e.envelope, 'inventory');
          assert.equal(d.event, e.name);
          assert.equal(d.webhookId, published.get(e.name));
          assert.deepEqual(d.data, examplePayload(e.name));
        }
      }
      // Without Standard Webhooks' headers, auto falls back to the envelope's own signature.
      const { 'webhook-signature': _s, ...own } = req.headers;
      const d = await verifyDelivery(req.body, own, { keys: signingKey });
      assert.equal(d.scheme, e.envelope === 'pusher' ? 'izettle' : 'herald');
    }
  });

  it('narrows the payload type by event name', async () => {
    const d = await verifyDelivery(byEvent.get('ProductCreated')!.body, byEvent.get('ProductCreated')!.headers, { keys: signingKey });
    assert.ok(d.envelope === 'pusher' && d.eventName === 'ProductCreated');
    // Typed from the catalog's schema: these compile only because the SDK knows a Product.
    assert.equal(typeof d.payload.uuid, 'string');
    assert.equal(typeof d.payload.name, 'string');
    const t = await verifyDelivery(byEvent.get('paymentTerminals.created')!.body, byEvent.get('paymentTerminals.created')!.headers, { keys: signingKey });
    assert.ok(t.envelope === 'inventory' && t.event === 'paymentTerminals.created');
    assert.equal(typeof t.data.name, 'string');
  });

  it('refuses a tampered body, a wrong key, an old or future timestamp, and says why', async () => {
    const pusher = byEvent.get('ProductCreated')!;
    const inventory = byEvent.get('paymentTerminals.updated')!;
    const wrong = 'x'.repeat(64);
    for (const req of [pusher, inventory]) {
      const tampered = req.body.replace('"', ' "');
      const own = req === pusher ? 'izettle' : 'herald';
      await refused('signature_mismatch', tampered, req.headers, { keys: signingKey, scheme: 'standard-webhooks' });
      await refused('signature_mismatch', req.body, req.headers, { keys: wrong });
      await refused('signature_mismatch', req.body, req.headers, { keys: wrong, scheme: own });
      const sent = Number(req.headers['webhook-timestamp']) * 1000;
      await refused('timestamp_too_old', req.body, req.headers, { keys: signingKey, now: new Date(sent + 301_000) });
      await refused('timestamp_in_future', req.body, req.headers, { keys: signingKey, now: new Date(sent - 301_000) });
      await refused('no_key', req.body, req.headers, { keys: [] });
      await refused('no_signature', req.body, { 'content-type': 'application/json' }, { keys: signingKey });
      await refused('malformed_header', req.body, { ...req.headers, 'webhook-signature': 'v2,abc' }, { keys: signingKey });
      // A tolerance can be widened.
      await verifyDelivery(req.body, req.headers, { keys: signingKey, now: new Date(sent + 301_000), toleranceSeconds: 600 });
    }
    // X-Herald-Signature's own timestamp, on its own.
    const sent = Number(inventory.headers['webhook-timestamp']) * 1000;
    await refused('timestamp_too_old', inventory.body, inventory.headers, { keys: signingKey, scheme: 'herald', now: new Date(sent + 301_000) });
    await refused('signature_mismatch', inventory.body.replace('"', ' "'), inventory.headers, { keys: signingKey, scheme: 'herald' });
    // X-iZettle-Signature covers the payload field: changing the payload is caught...
    const body = JSON.parse(pusher.body) as Record<string, string>;
    const forged = JSON.stringify({ ...body, payload: body.payload!.replace('"', ' "') });
    await refused('signature_mismatch', forged, pusher.headers, { keys: signingKey, scheme: 'izettle' });
    // ...and it carries no freshness of its own: an old delivery still verifies by it.
    await verifyDelivery(pusher.body, pusher.headers, { keys: signingKey, scheme: 'izettle', now: new Date(Date.now() + 86_400_000) });
    await refused('malformed_body', '{"not":"an envelope"}', { 'x-izettle-signature': 'ab'.repeat(32) }, { keys: signingKey });
  });

  it('accepts any of several keys (a rotation), and a Standard Webhooks secret', async () => {
    const req = byEvent.get('PurchaseCreated')!;
    const d = await verifyDelivery(req.body, req.headers, { keys: ['o'.repeat(64), signingKey] });
    assert.equal(d.scheme, 'standard-webhooks');
    for (const scheme of ['izettle', 'standard-webhooks'] as const) await verifyDelivery(req.body, req.headers, { keys: ['o'.repeat(64), signingKey], scheme });
    const secret = `whsec_${Buffer.from(signingKey, 'utf8').toString('base64')}`;
    await verifyDelivery(req.body, req.headers, { keys: secret, scheme: 'standard-webhooks' });
    // The body as bytes, and headers as fetch has them.
    await verifyDelivery(Buffer.from(req.body), new Headers(req.headers as Record<string, string>), { keys: signingKey });
  });
});
