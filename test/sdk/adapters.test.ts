// The receiver SDK's adapters (packages/webhooks/src/adapters.ts) behind real servers,
// each receiving real deliveries from a running Herald: node:http, Fastify, Express; and
// a fetch Request. Each keeps the raw body, accepts what Herald signed, and answers 400
// with the reason to a forged request, whose handler never runs.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { v1 as uuidv1 } from 'uuid';
import {
  expressVerifier,
  fastifyWebhooks,
  refusal,
  verifyNodeRequest,
  verifyRequest,
  WebhookVerificationError,
  type Verified,
} from '../../packages/webhooks/src/index.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const pglite = testDatabases().find((b) => b.name === 'pglite')!;
const ADAPTERS = ['node', 'fastify', 'express'] as const;
type Adapter = (typeof ADAPTERS)[number];

/** A recorded request's headers to send again: without the ones that describe its transfer. */
function replay(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string' && !['content-length', 'host', 'connection', 'transfer-encoding'].includes(k)) out[k] = v;
  return out;
}

const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

describe('herald-webhooks adapters: real deliveries', () => {
  let h: TestHerald;
  let receiver: TestReceiver;
  let cred: TestCredential;
  /** Each adapter's signing keys (filled once its subscription exists) and what its handler got. */
  const keys: Record<Adapter, string[]> = { node: [], fastify: [], express: [] };
  const got: Record<Adapter, Verified[]> = { node: [], fastify: [], express: [] };
  const urls = {} as Record<Adapter, string>;
  const closers: (() => Promise<unknown>)[] = [];
  let rawKey = '';

  before(async () => {
    // node:http
    const node = createServer((req, res) => {
      verifyNodeRequest(req, { keys: keys.node, maxBodyBytes: 64 * 1024 }).then(
        (d) => {
          got.node.push(d);
          res.writeHead(204).end();
        },
        (err: unknown) => {
          const r = err instanceof WebhookVerificationError ? refusal(err) : { status: 500, body: { error: String(err) } };
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
        },
      );
    });
    urls.node = `${await listen(node)}/hook`;
    closers.push(() => new Promise((r) => node.close(r)));
    // Fastify
    const fastify = Fastify();
    await fastify.register(
      fastifyWebhooks({
        keys: keys.fastify,
        path: '/hook',
        handler: async (d) => {
          got.fastify.push(d);
          return { ok: true };
        },
      }),
    );
    urls.fastify = `${await fastify.listen({ port: 0, host: '127.0.0.1' })}/hook`;
    closers.push(() => fastify.close());
    // Express
    const app = express();
    app.post('/hook', express.raw({ type: 'application/json' }), expressVerifier({ keys: keys.express }), (req, res) => {
      got.express.push((req as { webhook?: Verified }).webhook!);
      res.json({ ok: true });
    });
    const ex = createServer(app);
    urls.express = `${await listen(ex)}/hook`;
    closers.push(() => new Promise((r) => ex.close(r)));

    receiver = await startReceiver();
    h = await startTestHerald(pglite, { roles: { api: true, worker: true }, config: { pollIntervalMs: 60_000 } });
    cred = await createCredential(h, ALL_SCOPES);
    const call = asCredential(h, cred);
    const subscribe = async (destination: string) => {
      // Created against the plain receiver (it answers the TestMessage), then moved.
      const res = await call('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames: ['ProductCreated'],
        destination: `${receiver.url}/created`,
        contactEmail: 'adapters@example.com',
      });
      assert.equal(res.status, 200, await res.clone().text());
      const sub = (await res.json()) as { uuid: string; signingKey: string };
      if (destination !== receiver.url) assert.equal((await call('PUT', `/organizations/self/subscriptions/${sub.uuid}`, { destination })).status, 200);
      return sub.signingKey;
    };
    for (const a of ADAPTERS) keys[a].push(await subscribe(urls[a]));
    rawKey = await subscribe(receiver.url);
    receiver.reset();
  });
  after(async () => {
    await h?.stop();
    await receiver?.close();
    for (const c of closers) await c();
  });

  it('each adapter verifies a delivery from Herald and hands it to the handler, decoded', async () => {
    const res = await h.admin(`/admin/organizations/${cred.organizationUuid}/events`, {
      method: 'POST',
      body: JSON.stringify({ eventName: 'ProductCreated', payload: PUSHER_EXAMPLES.ProductCreated!.payload }),
    });
    const { messageId } = (await res.json()) as { messageId: string };
    h.worker!.wake();
    await receiver.waitFor(1);
    await h.worker!.idle();
    for (const a of ADAPTERS) {
      assert.equal(got[a].length, 1, `${a} got ${got[a].length}`);
      const d = got[a][0]!;
      assert.ok(d.envelope === 'pusher' && d.eventName === 'ProductCreated', a);
      assert.equal(d.webhookId, messageId);
      assert.deepEqual(d.payload, PUSHER_EXAMPLES.ProductCreated!.payload);
    }
  });

  it('each adapter answers 400 with the reason to a forged request; the handler never sees it', async () => {
    const real = receiver.requests[0]!;
    const forged = real.body.replace('"', ' "');
    for (const a of ADAPTERS) {
      const before = got[a].length;
      const res = await fetch(urls[a], { method: 'POST', body: forged, headers: replay(real.headers) });
      assert.equal(res.status, 400, a);
      assert.deepEqual(((await res.json()) as { error: string }).error, 'signature_mismatch', a);
      assert.equal(got[a].length, before, a);
    }
    // node:http: a body over its bound is refused without reading the rest.
    const big = await fetch(urls.node, { method: 'POST', body: 'x'.repeat(70 * 1024), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 400);
    assert.equal(((await big.json()) as { error: string }).error, 'malformed_body');
  });

  it('a fetch Request verifies as it is (Deno, Bun, Workers, Next.js)', async () => {
    const real = receiver.requests[0]!;
    const request = () => new Request('http://localhost/hook', { method: 'POST', body: real.body, headers: replay(real.headers) });
    const d = await verifyRequest(request(), { keys: rawKey });
    assert.equal(d.envelope, 'pusher');
    await assert.rejects(verifyRequest(request(), { keys: rawKey, maxBodyBytes: 100 }), (e: unknown) => e instanceof WebhookVerificationError && e.reason === 'malformed_body');
    await assert.rejects(verifyRequest(request(), { keys: keys.node }), (e: unknown) => e instanceof WebhookVerificationError && e.reason === 'signature_mismatch');
  });
});
