// Real deliveries of every event type in the catalog, from a running Herald, for the
// receiver SDKs' tests (TypeScript and Python).
import assert from 'node:assert/strict';
import { v1 as uuidv1 } from 'uuid';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { INVENTORY_EXAMPLES, PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';

/** OrganizationUpdated has no example in the spec: it is made by the API that emits it, with this name. */
export const ORGANIZATION_NAME = 'Receiver SDK Café';

/** What each event is published with: the spec's example. */
export function examplePayload(name: string): Record<string, unknown> {
  return PUSHER_EXAMPLES[name]?.payload ?? INVENTORY_EXAMPLES[name]?.data ?? { example: name };
}

export interface EveryEvent {
  h: TestHerald;
  receiver: TestReceiver;
  cred: TestCredential;
  signingKey: string;
  /** The delivery of each event, by name. */
  byEvent: Map<string, ReceivedRequest>;
  /** The message id each publish answered (OrganizationUpdated: none). */
  published: Map<string, string>;
  stop(): Promise<void>;
}

/** Starts Herald (PGlite), subscribes to every event, makes one of each and waits for their deliveries. */
export async function deliverEveryEvent(): Promise<EveryEvent> {
  const pglite = testDatabases().find((b) => b.name === 'pglite')!;
  const receiver = await startReceiver();
  const h = await startTestHerald(pglite, { roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000 } });
  const cred = await createCredential(h, ALL_SCOPES);
  const call = asCredential(h, cred);
  const res = await call('POST', '/organizations/self/subscriptions', {
    uuid: uuidv1(),
    transportName: 'WEBHOOK',
    eventNames: [],
    destination: `${receiver.url}/hook`,
    contactEmail: 'sdk@example.com',
  });
  assert.equal(res.status, 200, await res.clone().text());
  const signingKey = ((await res.json()) as { signingKey: string }).signingKey;
  receiver.reset();
  const published = new Map<string, string>();
  for (const e of EVENT_TYPES) {
    if (e.name === 'OrganizationUpdated') {
      const put = await call('PUT', '/organizations/self', { name: ORGANIZATION_NAME, contactEmail: 'sdk@example.com' });
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
  const byEvent = new Map<string, ReceivedRequest>();
  for (const req of receiver.requests) {
    const j = req.json as { eventName?: string; event?: string };
    byEvent.set(j.eventName ?? j.event!, req);
  }
  assert.deepEqual([...byEvent.keys()].sort(), EVENT_TYPES.map((e) => e.name).sort());
  return {
    h,
    receiver,
    cred,
    signingKey,
    byEvent,
    published,
    async stop() {
      await h.stop();
      await receiver.close();
    },
  };
}
