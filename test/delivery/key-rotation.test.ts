// Signing-key rotation with overlap (issue 10, Herald's extension): POST
// .../subscriptions/{uuid}/rotate-signing-key gives a new key and keeps the old one valid
// for the overlap. Meanwhile webhook-signature carries both signatures, X-Herald-Signature
// both v1 values, X-iZettle-Signature the old key's (the original's receivers check that
// one header with one key); after it, the new key alone. On both databases.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { v1 as uuidv1 } from 'uuid';
import { verifyDelivery, WebhookVerificationError, type Scheme } from '../../packages/webhooks/src/index.js';
import { ManualClock } from '../../src/clock.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { encryptionKeyId } from '../../src/domain/sealed-secrets.js';
import { INVENTORY_EXAMPLES, PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

for (const backend of testDatabases()) {
  describe(`signing-key rotation: ${backend.name}`, () => {
    const clock = new ManualClock(Date.now());
    let h: TestHerald;
    let receiver: TestReceiver;
    let cred: TestCredential;
    let call: ReturnType<typeof asCredential>;
    let uuid: string;
    let oldKey: string;
    let newKey: string;
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    let testDb: TestDb;

    before(async () => {
      receiver = await startReceiver();
      testDb = await backend.open();
      h = await startTestHerald(backend, { testDb, clock, roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000, encryptionKey: keyA } });
      cred = await createCredential(h, ALL_SCOPES);
      call = asCredential(h, cred);
      const res = await call('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['ProductCreated', 'paymentTerminals.created'],
        destination: `${receiver.url}/hook`,
        contactEmail: 'rotate@example.com',
      });
      assert.equal(res.status, 200, await res.clone().text());
      ({ uuid, signingKey: oldKey } = (await res.json()) as { uuid: string; signingKey: string });
    });
    after(async () => {
      await h?.stop();
      await receiver?.close();
      await testDb?.dispose();
    });

    const rotate = (body?: unknown) =>
      call('POST', `/organizations/self/subscriptions/${uuid}/rotate-signing-key`, body);
    const shownKey = async () => ((await (await call('GET', '/organizations/self/subscriptions')).json()) as { signingKey: string }[])[0]!.signingKey;

    /** Publishes one Pusher and one Inventory event and returns their deliveries. */
    async function deliverBoth(): Promise<{ pusher: ReceivedRequest; inventory: ReceivedRequest }> {
      receiver.reset();
      for (const [eventName, payload] of [
        ['ProductCreated', PUSHER_EXAMPLES.ProductCreated!.payload],
        ['paymentTerminals.created', INVENTORY_EXAMPLES['paymentTerminals.created']!.data],
      ] as const) {
        const r = await h.admin(`/admin/organizations/${cred.organizationUuid}/events`, { method: 'POST', body: JSON.stringify({ eventName, payload }) });
        assert.equal(r.status, 202);
      }
      h.worker!.wake();
      const got = await receiver.waitFor(2);
      const pusher = got.find((r) => (r.json as { eventName?: string }).eventName)!;
      const inventory = got.find((r) => (r.json as { event?: string }).event)!;
      return { pusher, inventory };
    }

    const verifies = async (req: ReceivedRequest, key: string, scheme: Scheme) => {
      try {
        await verifyDelivery(req.body, req.headers, { keys: key, scheme, now: clock.now() });
        return true;
      } catch (err) {
        if (err instanceof WebhookVerificationError && err.reason === 'signature_mismatch') return false;
        throw err;
      }
    };

    it('refuses an overlap that is not whole seconds from 0 to a week, and changes nothing', async () => {
      for (const overlapSeconds of [-1, 1.5, '60', 604_801, true]) {
        const res = await rotate({ overlapSeconds });
        assert.equal(res.status, 400, JSON.stringify(overlapSeconds));
        const body = (await res.json()) as { errorType: string; developerMessage: string };
        assert.equal(body.errorType, 'VALIDATION_ERROR');
      }
      assert.equal((await rotate([1])).status, 400);
      assert.equal((await call('POST', `/organizations/self/subscriptions/${uuidv1()}/rotate-signing-key`, {})).status, 404);
      assert.equal(await shownKey(), oldKey);
    });

    it('during the overlap, deliveries verify with either key (webhook-signature, X-Herald-Signature), X-iZettle-Signature with the old one', async () => {
      const res = await rotate({ overlapSeconds: 3600 });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { signingKey: string; previousSigningKeyValidUntil: string };
      newKey = body.signingKey;
      assert.match(newKey, /^[A-Za-z0-9]{64}$/);
      assert.notEqual(newKey, oldKey);
      assert.equal(body.previousSigningKeyValidUntil, new Date(clock.now().getTime() + 3_600_000).toISOString());
      assert.equal(await shownKey(), newKey);
      // Both keys are sealed at rest.
      const stored = (await testDb.db.query<{ k: string; p: string }>('select signing_key as k, previous_signing_key as p from subscriptions')).rows[0]!;
      for (const v of [stored.k, stored.p]) assert.ok(v.startsWith('sealed:') && !v.includes(oldKey) && !v.includes(newKey));

      const { pusher, inventory } = await deliverBoth();
      assert.equal(String(pusher.headers['webhook-signature']).split(' ').length, 2);
      for (const req of [pusher, inventory]) {
        assert.equal(await verifies(req, oldKey, 'standard-webhooks'), true);
        assert.equal(await verifies(req, newKey, 'standard-webhooks'), true);
      }
      assert.equal(await verifies(inventory, oldKey, 'herald'), true);
      assert.equal(await verifies(inventory, newKey, 'herald'), true);
      assert.equal(await verifies(pusher, oldKey, 'izettle'), true);
      assert.equal(await verifies(pusher, newKey, 'izettle'), false);
    });

    it('after the overlap, only the new key signs', async () => {
      clock.advance(3_601_000);
      const { pusher, inventory } = await deliverBoth();
      assert.equal(String(pusher.headers['webhook-signature']).split(' ').length, 1);
      for (const req of [pusher, inventory]) {
        assert.equal(await verifies(req, newKey, 'standard-webhooks'), true);
        assert.equal(await verifies(req, oldKey, 'standard-webhooks'), false);
      }
      assert.equal(await verifies(inventory, newKey, 'herald'), true);
      assert.equal(await verifies(inventory, oldKey, 'herald'), false);
      assert.equal(await verifies(pusher, newKey, 'izettle'), true);
      assert.equal(await verifies(pusher, oldKey, 'izettle'), false);
    });

    it('a second rotation during an overlap keeps the key receivers hold (a retried request cuts nothing off)', async () => {
      const first = ((await (await rotate({ overlapSeconds: 600 })).json()) as { signingKey: string }).signingKey;
      const second = ((await (await rotate({ overlapSeconds: 600 })).json()) as { signingKey: string }).signingKey;
      const { pusher } = await deliverBoth();
      assert.equal(await verifies(pusher, newKey, 'standard-webhooks'), true, 'the key held before both rotations still verifies');
      assert.equal(await verifies(pusher, second, 'standard-webhooks'), true);
      assert.equal(await verifies(pusher, first, 'standard-webhooks'), false, 'the key made by the first rotation is dropped');
      newKey = second;
    });

    it('a new encryption key reseals the previous signing key too; it still signs during its overlap', async () => {
      clock.advance(601_000); // the last overlap is over: this rotation keeps the current key
      const res = await rotate({ overlapSeconds: 600 });
      const rotated = ((await res.json()) as { signingKey: string }).signingKey;
      await h.stop();
      h = await startTestHerald(backend, { testDb, clock, roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000, encryptionKey: keyB, previousEncryptionKeys: [keyA] } });
      const stored = (await testDb.db.query<{ k: string; p: string }>('select signing_key as k, previous_signing_key as p from subscriptions')).rows[0]!;
      for (const v of [stored.k, stored.p]) assert.ok(v.startsWith(`sealed:v1:${encryptionKeyId(keyB)}:`), v.slice(0, 40));
      const { pusher } = await deliverBoth();
      assert.equal(await verifies(pusher, newKey, 'standard-webhooks'), true); // the previous key now
      assert.equal(await verifies(pusher, rotated, 'standard-webhooks'), true);
    });

    it('a rotated-out key is erased once its overlap has ended (at the next start)', async () => {
      clock.advance(601_000);
      await h.stop();
      h = await startTestHerald(backend, { testDb, clock, roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000, encryptionKey: keyB } });
      const stored = (await testDb.db.query<{ p: string | null; u: Date | null }>('select previous_signing_key as p, previous_signing_key_until as u from subscriptions')).rows[0]!;
      assert.deepEqual(stored, { p: null, u: null });
    });
  });
}
