// The receiver SDK (packages/webhooks) against real deliveries from a running Herald:
// every event type in the catalog, each verified by every signature it carries and
// decoded to what was published; then what it refuses, and why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyDelivery, WebhookVerificationError, type RefusalReason, type Verified, type VerifyOptions } from '../../packages/webhooks/src/index.js';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { deliverEveryEvent, examplePayload, ORGANIZATION_NAME, type EveryEvent } from './deliveries.js';

/** Refused, for this reason. */
async function refused(reason: RefusalReason, body: string, headers: ReceivedRequest['headers'], options: VerifyOptions): Promise<void> {
  await assert.rejects(verifyDelivery(body, headers, options), (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

describe('herald-webhooks: real deliveries', () => {
  let all: EveryEvent;
  let signingKey: string;
  let byEvent: EveryEvent['byEvent'];
  let published: EveryEvent['published'];
  let cred: EveryEvent['cred'];
  before(async () => {
    all = await deliverEveryEvent();
    ({ signingKey, byEvent, published, cred } = all);
  });
  after(() => all?.stop());

  it('verifies every event type with each signature it carries, and decodes it to what was published', async () => {
    for (const e of EVENT_TYPES) {
      const req = byEvent.get(e.name)!;
      const schemes = e.envelope === 'pusher' ? (['standard-webhooks', 'izettle', 'auto'] as const) : (['standard-webhooks', 'herald', 'auto'] as const);
      for (const scheme of schemes) {
        const d: Verified = await verifyDelivery(req.body, req.headers, { keys: signingKey, scheme });
        assert.equal(d.scheme, scheme === 'auto' ? 'standard-webhooks' : scheme);
        if (d.envelope === 'pusher' && d.eventName === 'OrganizationUpdated') {
          assert.equal(d.payload.newEntity.name, ORGANIZATION_NAME);
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
      // Without Standard Webhooks' headers, auto takes X-Herald-Signature (which covers the
      // whole body and its time of sending), never X-iZettle-Signature alone.
      const { 'webhook-signature': _s, ...own } = req.headers;
      if (e.envelope === 'inventory') assert.equal((await verifyDelivery(req.body, own, { keys: signingKey })).scheme, 'herald');
      else await refused('no_signature', req.body, own, { keys: signingKey });
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
    await refused('malformed_body', '{"not":"an envelope"}', { 'x-izettle-signature': 'ab'.repeat(32) }, { keys: signingKey, scheme: 'izettle' });
  });

  it('does not let a request stripped down to X-iZettle-Signature through (no downgrade), and refuses hostile input with a reason', async () => {
    const req = byEvent.get('ProductCreated')!;
    const body = JSON.parse(req.body) as Record<string, string>;
    // X-iZettle-Signature covers timestamp and payload only: a relabelled replay keeps it valid.
    const relabelled = JSON.stringify({ ...body, eventName: 'ProductDeleted', messageId: 'fresh-id' });
    const stripped = { 'x-izettle-signature': req.headers['x-izettle-signature'], 'content-type': 'application/json' };
    await refused('no_signature', relabelled, stripped, { keys: signingKey });
    const now = new Date(Number(req.headers['webhook-timestamp']) * 1000);
    await refused('malformed_header', req.body, { ...req.headers, 'webhook-timestamp': '\u00b2' }, { keys: signingKey, now });
    await refused('malformed_body', '['.repeat(100_000), { 'x-izettle-signature': 'ab'.repeat(32) }, { keys: signingKey, scheme: 'izettle' });
    await refused('no_key', req.body, req.headers, { keys: 'whsec_', now });
    const many = Array.from({ length: 500 }, () => 'v1,AAAA').join(' ');
    await refused('signature_mismatch', req.body, { ...req.headers, 'webhook-signature': many }, { keys: signingKey, now });
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
