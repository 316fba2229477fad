// End-to-end webhook checks for the business APIs: one Herald (API + worker) on a
// manual clock, a real receiver subscribed to every event, and checkers that take a
// received request apart and verify its envelope and signatures independently of
// src/delivery (HMACs computed here, over the documented strings).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { v1 as uuidv1, version as uuidVersion } from 'uuid';
import { ManualClock } from '../../src/clock.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import type { TestDatabase } from './db.js';
import { startTestHerald, type TestHerald } from './herald.js';
import { asCredential, createCredential, type TestCredential } from './identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from './receiver.js';

/** The first retry comes this many seconds after a failure (no jitter: random is 0.5). */
export const FIRST_RETRY_SECONDS = 60;

export interface WebhookEnv {
  h: TestHerald;
  clock: ManualClock;
  receiver: TestReceiver;
  /** A live-mode credential with every scope; its organization is the one under test. */
  cred: TestCredential;
  org: string;
  /** The signing key of the subscription (every event) whose destination is the receiver. */
  signingKey: string;
  /** fetch with `cred` and a JSON body. */
  call: ReturnType<typeof asCredential>;
  /** Lets the worker send everything due now and record it. */
  settle(): Promise<void>;
  /** Moves the clock, then settles. */
  advance(seconds: number): Promise<void>;
  /**
   * Settles what earlier steps caused, runs `action`, settles, and returns the event
   * requests that arrived meanwhile (TestMessages left out).
   */
  deliveredBy(action: () => Promise<void>): Promise<ReceivedRequest[]>;
  stop(): Promise<void>;
}

export async function startWebhookEnv(backend: TestDatabase): Promise<WebhookEnv> {
  // Real time: the official Standard Webhooks verifier checks timestamps against it.
  const clock = new ManualClock(Date.now());
  const receiver = await startReceiver();
  let h: TestHerald | undefined;
  try {
    h = await startTestHerald(backend, {
      clock,
      roles: { api: true, worker: true },
      random: () => 0.5,
      config: { retrySchedule: [FIRST_RETRY_SECONDS, 600], pollIntervalMs: 60_000, deliveryTimeoutMs: 2000, leaseSeconds: 10 },
    });
    const herald = h;
    const cred = await createCredential(herald, ALL_SCOPES);
    const call = asCredential(herald, cred);
    const res = await call('POST', '/organizations/self/subscriptions', {
      uuid: uuidv1(),
      transportName: 'WEBHOOK',
      eventNames: [],
      destination: `${receiver.url}?s=all`,
      contactEmail: 'hooks@example.com',
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { signingKey } = (await res.json()) as { signingKey: string };
    receiver.reset();
    const settle = async () => {
      herald.worker!.wake();
      await herald.worker!.idle();
    };
    return {
      h: herald,
      clock,
      receiver,
      cred,
      org: cred.organizationUuid,
      signingKey,
      call,
      settle,
      async advance(seconds) {
        clock.advance(seconds * 1000);
        await settle();
      },
      async deliveredBy(action) {
        await settle();
        const from = receiver.requests.length;
        await action();
        await settle();
        return receiver.requests.slice(from).filter((r) => eventNameOf(r) !== 'TestMessage');
      },
      async stop() {
        await herald.stop();
        await receiver.close();
      },
    };
  } catch (err) {
    await h?.stop();
    await receiver.close();
    throw err;
  }
}

/** The event name of a received request: the Pusher `eventName` or the Inventory `event`. */
export function eventNameOf(r: ReceivedRequest): string | undefined {
  const b = r.json as { eventName?: unknown; event?: unknown } | undefined;
  const name = b?.eventName ?? b?.event;
  return typeof name === 'string' ? name : undefined;
}

const hmac = (key: string, message: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MILLIS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;

/** The header names as they came on the wire, in their original spelling. */
export const rawHeaderNames = (r: ReceivedRequest): string[] => r.rawHeaders.filter((_, i) => i % 2 === 0);

/**
 * Checks what every request carries: content type, user agent, and the Standard Webhooks
 * headers, whose signature is recomputed here and also checked by the official library.
 * Names are spelled as the original service spells them (case-sensitive receivers).
 */
export function checkCommonHeaders(r: ReceivedRequest, signingKey: string, webhookId: string): void {
  const headers = r.headers as Record<string, string>;
  const names = rawHeaderNames(r);
  for (const name of ['Content-Type', 'User-Agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    assert.ok(names.includes(name), `header ${name} spelled as the original does; got ${names.join(', ')}`);
  }
  assert.equal(r.method, 'POST');
  assert.match(headers['content-type'] ?? '', /^application\/json/);
  assert.equal(headers['user-agent'], 'PusherApplication (WebHookPushClient)');
  assert.equal(headers['webhook-id'], webhookId);
  assert.match(headers['webhook-timestamp'] ?? '', /^\d+$/);
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${r.body}`;
  assert.equal(headers['webhook-signature'], `v1,${hmac(signingKey, signed).digest('base64')}`);
  const secret = `whsec_${Buffer.from(signingKey, 'utf8').toString('base64')}`;
  assert.doesNotThrow(() => new Webhook(secret).verify(r.body, headers));
}

export interface PusherBody {
  organizationUuid: string;
  messageUuid: string;
  eventName: string;
  messageId: string;
  payload: string;
  timestamp: string;
}

/**
 * A Pusher envelope as the receiver got it: exactly the six documented keys with their
 * types and formats, `payload` a JSON string, X-iZettle-Signature over
 * `<timestamp>.<payload>` and the Standard Webhooks signature verified. Returns the
 * body and the decoded payload.
 */
export function checkPusherRequest(r: ReceivedRequest, signingKey: string): { body: PusherBody; payload: Record<string, unknown> } {
  const body = r.json as PusherBody;
  assert.ok(body && typeof body === 'object', `not a JSON object: ${r.body}`);
  assert.deepEqual(Object.keys(body).sort(), ['eventName', 'messageId', 'messageUuid', 'organizationUuid', 'payload', 'timestamp']);
  assert.match(body.organizationUuid, UUID);
  assert.match(body.messageUuid, UUID);
  assert.equal(uuidVersion(body.messageUuid), 1, 'messageUuid is a version-1 UUID');
  assert.equal(typeof body.eventName, 'string');
  assert.match(body.messageId, UUID);
  assert.equal(typeof body.payload, 'string', 'payload is a JSON document encoded as a string');
  assert.match(body.timestamp, ISO_MILLIS_Z);
  const headers = r.headers as Record<string, string>;
  assert.ok(rawHeaderNames(r).includes('X-iZettle-Signature'), 'X-iZettle-Signature in its original spelling');
  assert.equal(headers['x-izettle-signature'], hmac(signingKey, `${body.timestamp}.${body.payload}`).digest('hex'));
  checkCommonHeaders(r, signingKey, body.messageId);
  const payload = JSON.parse(body.payload) as Record<string, unknown>;
  assert.ok(payload && typeof payload === 'object' && !Array.isArray(payload), 'the payload is a JSON object');
  return { body, payload };
}

export interface InventoryBody {
  id: string;
  attemptId: string;
  livemode: boolean;
  created: number;
  event: string;
  data: Record<string, unknown>;
}

/**
 * An Inventory envelope as the receiver got it: exactly the six documented keys, `id`
 * 24-hex, `created` integer Unix seconds, X-Herald-Signature (`t=<unix>,v1=<hex>` over
 * `<t>.<raw body>`) and the Standard Webhooks signature verified.
 */
export function checkInventoryRequest(r: ReceivedRequest, signingKey: string): InventoryBody {
  const body = r.json as InventoryBody;
  assert.ok(body && typeof body === 'object', `not a JSON object: ${r.body}`);
  assert.deepEqual(Object.keys(body).sort(), ['attemptId', 'created', 'data', 'event', 'id', 'livemode']);
  assert.match(body.id, OBJECT_ID);
  assert.equal(typeof body.livemode, 'boolean');
  assert.ok(Number.isInteger(body.created), `created is an integer: ${body.created}`);
  assert.equal(typeof body.event, 'string');
  assert.ok(body.data && typeof body.data === 'object' && !Array.isArray(body.data), 'data is a JSON object');
  const headers = r.headers as Record<string, string>;
  const t = headers['webhook-timestamp'];
  assert.ok(rawHeaderNames(r).includes('X-Herald-Signature'), 'X-Herald-Signature in its canonical spelling');
  assert.match(body.attemptId, OBJECT_ID, 'attemptId is 24 hex, like id');
  assert.equal(headers['x-herald-signature'], `t=${t},v1=${hmac(signingKey, `${t}.${r.body}`).digest('hex')}`);
  checkCommonHeaders(r, signingKey, body.id);
  return body;
}
