// Real deliveries of every event type in the catalog, from a running Herald, for the
// receiver SDKs' tests (TypeScript and Python): the business APIs' webhook environment
// (test/helpers/webhooks.ts), one event of each type.
import assert from 'node:assert/strict';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { INVENTORY_EXAMPLES, PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { eventNameOf, startWebhookEnv, type WebhookEnv } from '../helpers/webhooks.js';

/** OrganizationUpdated has no example in the spec: it is made by the API that emits it, with this name. */
export const ORGANIZATION_NAME = 'Receiver SDK Café';

/** What each event is published with: the spec's example. */
export function examplePayload(name: string): Record<string, unknown> {
  return PUSHER_EXAMPLES[name]?.payload ?? INVENTORY_EXAMPLES[name]?.data ?? { example: name };
}

export type EveryEvent = WebhookEnv & {
  /** The delivery of each event, by name. */
  byEvent: Map<string, ReceivedRequest>;
  /** The message id each publish answered (OrganizationUpdated: none). */
  published: Map<string, string>;
};

/** Starts Herald (PGlite) with a subscription to every event, makes one of each and waits for their deliveries. */
export async function deliverEveryEvent(): Promise<EveryEvent> {
  const env = await startWebhookEnv(testDatabases().find((b) => b.name === 'pglite')!);
  const published = new Map<string, string>();
  const requests = await env.deliveredBy(async () => {
    for (const e of EVENT_TYPES) {
      if (e.name === 'OrganizationUpdated') {
        const put = await env.call('PUT', '/organizations/self', { name: ORGANIZATION_NAME, contactEmail: 'sdk@example.com' });
        assert.equal(put.status, 200, await put.clone().text());
        continue;
      }
      const r = await env.h.admin(`/admin/organizations/${env.org}/events`, {
        method: 'POST',
        body: JSON.stringify({ eventName: e.name, payload: examplePayload(e.name) }),
      });
      assert.equal(r.status, 202, `${e.name}: ${await r.clone().text()}`);
      published.set(e.name, ((await r.json()) as { messageId: string }).messageId);
    }
  });
  // One each (a subscription to every event gets PersonalAssertionDeleted under its own name only).
  const byEvent = new Map(requests.map((r) => [eventNameOf(r)!, r]));
  assert.equal(requests.length, EVENT_TYPES.length);
  assert.deepEqual([...byEvent.keys()].sort(), EVENT_TYPES.map((e) => e.name).sort());
  return Object.assign(env, { byEvent, published });
}
