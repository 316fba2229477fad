// The listen transport (issue 10): a listener's deliveries travel from the worker through
// the database to the API process holding its stream, and its CLI's answer back. Here
// the API and the worker are two Heralds on one database (as two processes would be on
// PostgreSQL), the CLI side is the CLI's own runListener, and the local server is real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { heraldApi } from '../../src/cli/api-client.js';
import { systemClock } from '../../src/clock.js';
import type { DomainContext } from '../../src/domain/context.js';
import { eventExample } from '../../src/domain/event-examples.js';
import { sweepStaleListeners } from '../../src/domain/listeners.js';
import { makeLogger } from '../../src/logger.js';
import { runListener, type Forwarded, type ListenerInfo } from '../../src/cli/commands/listen.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { eventually, readUntil, settles } from '../helpers/wait.js';

// How long the worker waits for a CLI's answer, where the tests expect one: a safety net
// like the others (helpers/wait.ts), never a budget a busy machine must meet. A shorter
// wait would record a timeout, then a retry, where the test expects one success.
const ANSWER_SAFETY_NET_MS = 60_000;
// And where a test needs the wait to run out (a CLI that never answers).
const SHORT_ANSWER_MS = 1000;

interface Attempt {
  outcome: string;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
}

for (const backend of testDatabases()) {
  describe(`listen relay (${backend.name}): API and worker apart`, () => {
    let api: TestHerald;
    let worker: TestHerald | undefined;
    let receiver: TestReceiver;
    let cred: TestCredential;
    // The listen sessions still running: a test that fails leaves its own, and a running
    // session (it reconnects forever) would keep the test process, and the run, alive.
    const sessions = new Set<() => Promise<void>>();

    before(async () => {
      api = await startTestHerald(backend, {
        roles: { api: true, worker: false },
        // Its listeners' timeoutMs: the CLI forwards with a little less than that.
        config: { allowInsecureDestinations: false, deliveryTimeoutMs: ANSWER_SAFETY_NET_MS, leaseSeconds: 120 },
      });
      receiver = await startReceiver();
      cred = await createCredential(api, ['READ:PRODUCT']);
    });
    after(async () => {
      for (const stop of [...sessions]) await stop().catch(() => {});
      await worker?.stop();
      await api?.stop();
      await receiver?.close();
    });

    /** A worker on the API's database (as a process of its own would be on PostgreSQL), waiting `answerMs` for each answer. */
    const startWorker = async (answerMs: number, retrySchedule?: number[]) => {
      worker = await startTestHerald(backend, {
        testDb: api.testDb,
        roles: { api: false, worker: true },
        config: {
          allowInsecureDestinations: false,
          deliveryTimeoutMs: answerMs,
          leaseSeconds: Math.max(30, Math.ceil((2 * answerMs) / 1000)),
          ...(retrySchedule ? { retrySchedule } : {}),
          // The fleet shares one key for secrets at rest (signing keys are sealed with it).
          encryptionKey: api.config.encryptionKey,
          // Its health listener on any free port (tests run side by side).
          workerHealthPort: 0,
        },
      });
    };
    const stopWorker = async () => {
      await worker?.stop();
      worker = undefined;
    };

    /**
     * Starts a listener like `herald listen` does; resolves once its stream is open (so a
     * second stream is refused, and deliveries reach it from then on).
     */
    async function listen(eventNames?: string[], forwardTo = receiver.url) {
      const stop = new AbortController();
      const forwarded: Forwarded[] = [];
      let connected!: (l: ListenerInfo) => void;
      let failed!: (err: unknown) => void;
      const listener = new Promise<ListenerInfo>((resolve, reject) => ((connected = resolve), (failed = reject)));
      const done = runListener({
        api: heraldApi(api.url, cred.apiKey),
        forwardTo,
        eventNames,
        signal: stop.signal,
        onReady: () => {},
        onConnected: connected,
        onForwarded: (f) => forwarded.push(f),
        onDisconnected: () => {},
      });
      done.then(() => failed(new Error('the session ended before its stream opened')), failed);
      const stopSession = async () => {
        sessions.delete(stopSession);
        stop.abort();
        await settles(done, 'the listen session stopped');
      };
      sessions.add(stopSession);
      return { listener: await listener, forwarded, stop: stopSession };
    }

    const publish = async (eventName: string, payload: unknown = eventExample(eventName)) => {
      const r = await api.admin(`/admin/organizations/${cred.organizationUuid}/events`, { method: 'POST', body: JSON.stringify({ eventName, payload }) });
      assert.equal(r.status, 202, await r.clone().text());
      return (await r.json()) as { messageId: string; deliveries: number };
    };
    const attemptsOf = async (listenerId: string, messageId: string): Promise<Attempt[]> => {
      const r = await asCredential(api, cred)('GET', `/organizations/self/subscriptions/${listenerId}/messages/${messageId}/attempts`);
      return r.status === 200 ? ((await r.json()) as { attempts: Attempt[] }).attempts : [];
    };

    /** The relay's rows for these requests (a row goes once the worker has decided its attempt). */
    const requestRows = async (ids: string[]) =>
      (await api.testDb.db.query<{ n: number }>('select count(*)::int as n from listen_requests where id = any ($1::uuid[])', [ids])).rows[0]!.n;

    describe('a CLI that answers', () => {
      before(() => startWorker(ANSWER_SAFETY_NET_MS));
      after(stopWorker);

      it('delivers through the stream and records the answer, though only the database joins API and worker', async () => {
        receiver.reset();
        const l = await listen(['InventoryTrackingStarted']);
        const { messageId, deliveries } = await publish('InventoryTrackingStarted', {
          organizationUuid: cred.organizationUuid,
          productUuid: '18380ac0-fab5-11e7-94b4-842bd3fbd22c',
          created: { uuid: '0f674460-fab5-11e7-a310-0002ebd6a43c', timestamp: '2018-01-16T12:02:16.569+0000', userType: 'USER' },
        });
        assert.equal(deliveries, 1);
        const [req] = await receiver.waitFor(1);
        assert.equal((req!.json as { messageId: string }).messageId, messageId);
        const attempts = await eventually(async () => {
          const a = await attemptsOf(l.listener.id, messageId);
          return a.length > 0 ? a : undefined;
        }, 'the attempt recorded');
        assert.deepEqual(attempts.map((a) => [a.outcome, a.statusCode]), [['success', 200]]);
        // The relay's rows are gone once answered.
        await eventually(async () => ((await api.testDb.db.query<{ n: number }>('select count(*)::int as n from listen_requests')).rows[0]!.n === 0 ? true : undefined), 'no relay rows left');
        await l.stop();
      });

      it('records an error class when the local server cannot be reached', async () => {
        // The CLI forwards to a closed port: a connect failure, reported and recorded.
        const closed = await startReceiver();
        const closedUrl = closed.url;
        await closed.close();
        const { listener: l, stop } = await listen(['ProductDeleted'], closedUrl);
        const first = await publish('ProductDeleted');
        const [refused] = await eventually(async () => {
          const a = await attemptsOf(l.id, first.messageId);
          return a.length > 0 ? a : undefined;
        }, 'the connect failure recorded');
        assert.equal(refused!.outcome, 'failure');
        assert.equal(refused!.errorClass, 'connect');
        assert.match(refused!.errorMessage ?? '', /^the local server: /);
        await stop();
      });

      it('records every answer of a burst (answers interleave with inserts), a 2xx without an excerpt included', async () => {
        receiver.reset();
        const l = await listen(['ProductCreated']);
        const published = await Promise.all(Array.from({ length: 40 }, () => publish('ProductCreated')));
        await receiver.waitFor(40);
        const call = asCredential(api, cred);
        await eventually(async () => {
          const r = (await (await call('GET', `/organizations/self/subscriptions/${l.listener.id}/messages?limit=100`)).json()) as { messages: { state: string }[] };
          return r.messages.length === 40 && r.messages.every((m) => m.state === 'delivered') ? true : undefined;
        }, 'all 40 delivered');
        for (const p of published.slice(0, 5)) {
          const a = await attemptsOf(l.listener.id, p.messageId);
          assert.deepEqual(a.map((x) => [x.outcome, x.statusCode]), [['success', 200]], 'one attempt each, a success');
        }
        await l.stop();

        // An answer that leaves out the optional excerpt still records the delivery.
        const created = (await (await call('POST', '/organizations/self/listeners', { eventNames: ['ProductCreated'] })).json()) as ListenerInfo;
        const stream = await api.request(`/organizations/self/listeners/${created.id}/stream`, { headers: { authorization: cred.auth } });
        const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
        const one = await publish('ProductCreated');
        const seen = await readUntil(reader, (t) => t.includes('event: request'), 'its request');
        const id = /id: ([0-9a-f-]{36})/.exec(seen)![1]!;
        assert.equal((await call('POST', `/organizations/self/listeners/${created.id}/answers/${id}`, { status: 204, latencyMs: 3 })).status, 204);
        await eventually(async () => {
          const a = await attemptsOf(created.id, one.messageId);
          return a.length === 1 && a[0]!.outcome === 'success' ? true : undefined;
        }, 'the answer without an excerpt recorded');
        await reader.cancel();
        assert.equal((await call('DELETE', `/organizations/self/listeners/${created.id}`)).status, 204);
      });

      it('keeps listeners out of the Pusher API and out of other organizations\' reach', async () => {
        const l = await listen(['ProductCreated']);
        const call = asCredential(api, cred);
        const list = (await (await call('GET', '/organizations/self/subscriptions')).json()) as { uuid: string }[];
        assert.ok(!list.some((s) => s.uuid === l.listener.id), 'not in the Pusher list');
        assert.equal((await call('PUT', `/organizations/self/subscriptions/${l.listener.id}`, { destination: 'https://example.com/x' })).status, 404);
        assert.equal((await call('DELETE', `/organizations/self/subscriptions/${l.listener.id}`)).status, 404);

        const stranger = asCredential(api, await createCredential(api, ['READ:PRODUCT']));
        // Another key of the same organization does not reach it either: a listener is its credential's.
        const colleague = asCredential(api, await createCredential(api, ['READ:PRODUCT', 'READ:FINANCE'], { organizationUuid: cred.organizationUuid }));
        assert.equal((await colleague('GET', `/organizations/self/listeners/${l.listener.id}/stream`)).status, 404);
        assert.equal((await colleague('DELETE', `/organizations/self/listeners/${l.listener.id}`)).status, 404);
        assert.equal((await stranger('GET', `/organizations/self/listeners/${l.listener.id}/stream`)).status, 404);
        assert.equal((await stranger('DELETE', `/organizations/self/listeners/${l.listener.id}`)).status, 404);
        assert.equal((await stranger('POST', `/organizations/self/listeners/${l.listener.id}/answers/${l.listener.id}`, { status: 200, latencyMs: 1 })).status, 404);
        assert.equal((await stranger('POST', `/organizations/${cred.organizationUuid}/listeners`, {})).status, 403);
        // A second stream of the same listener is refused while the first is open (listen()
        // resolved once it was).
        const second = await call('GET', `/organizations/self/listeners/${l.listener.id}/stream`);
        if (second.status === 200) await second.body?.cancel();
        assert.equal(second.status, 409);
        // Scopes: events the key may not receive, and a listener by default gets only those it may.
        const denied = await call('POST', '/organizations/self/listeners', { eventNames: ['PurchaseCreated'] });
        assert.equal(denied.status, 403);
        const all = (await (await call('POST', '/organizations/self/listeners', {})).json()) as ListenerInfo;
        assert.ok(all.eventNames.includes('ProductCreated') && !all.eventNames.includes('PurchaseCreated'), all.eventNames.join());
        assert.equal((await call('DELETE', `/organizations/self/listeners/${all.id}`)).status, 204);
        // Bad answers get 400, not 500.
        for (const body of [{ status: 99, latencyMs: 1 }, { error: 'nope', message: 'x', latencyMs: 1 }, { status: 200, latencyMs: 1, excerpt: 'x'.repeat(5000) }, []]) {
          const r = await call('POST', `/organizations/self/listeners/${l.listener.id}/answers/${l.listener.id}`, body);
          assert.equal(r.status, 400, JSON.stringify(body));
        }
        await l.stop();
      });

      it('ends the listeners of a revoked key at the next sweep', async () => {
        const key = await createCredential(api, ['READ:PRODUCT'], { organizationUuid: cred.organizationUuid });
        const created = (await (await asCredential(api, key)('POST', '/organizations/self/listeners', {})).json()) as ListenerInfo;
        const ctx = { db: api.testDb.db, clock: systemClock, config: api.config, log: makeLogger({ logLevel: 'silent', logFormat: 'json' }) } as unknown as DomainContext;
        const left = async () => (await api.testDb.db.query<{ n: number }>('select count(*)::int as n from listeners where id = $1', [created.id])).rows[0]!.n;
        // (The API's own sweep runs meanwhile too: what counts is the listener, not who ended it.)
        await sweepStaleListeners(ctx);
        assert.equal(await left(), 1, 'a fresh listener of a valid key stays');
        assert.equal((await api.admin(`/admin/organizations/${cred.organizationUuid}/api-keys/${key.apiKeyId}`, { method: 'DELETE' })).status, 204);
        await sweepStaleListeners(ctx);
        assert.equal(await left(), 0);
      });
    });

    describe('a CLI that never answers', () => {
      // The wait runs out: a timeout. Retries a second apart, more of them than the safety
      // net lasts: a request pushed to a stream that was closing is lost with it, and its
      // retry reaches the reopened stream however busy the machine is.
      before(() => startWorker(SHORT_ANSWER_MS, Array<number>(40).fill(1)));
      after(stopWorker);

      it('records a timeout, refuses the late answer, and keeps the requests of a closed stream for the reopened one', async () => {
        const call = asCredential(api, cred);
        const created = (await (await call('POST', '/organizations/self/listeners', { eventNames: ['ProductDeleted'] })).json()) as ListenerInfo;
        const streamAbort = new AbortController();
        const stream = await api.request(`/organizations/self/listeners/${created.id}/stream`, { headers: { authorization: cred.auth }, signal: streamAbort.signal });
        assert.equal(stream.status, 200);
        assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
        const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
        const second = await publish('ProductDeleted');
        const seen = await readUntil(reader, (t) => t.includes('event: request'), 'its request');
        const id = /id: ([0-9a-f-]{36})/.exec(seen)![1]!;
        // The worker stops waiting for it (its relay row goes with the decision)...
        await eventually(async () => ((await requestRows([id])) === 0 ? true : undefined), 'the relay gave up on the request');
        // ...so the answer arriving after that is refused: nothing waits for it.
        const late = await call('POST', `/organizations/self/listeners/${created.id}/answers/${id}`, { status: 200, latencyMs: 5 });
        assert.equal(late.status, 404);
        assert.equal(((await late.json()) as { errorType: string }).errorType, 'LISTEN_REQUEST_NOT_FOUND');
        const [timedOut] = await eventually(async () => {
          const a = await attemptsOf(created.id, second.messageId);
          return a.length > 0 ? a : undefined;
        }, 'the timeout recorded');
        assert.equal(timedOut!.errorClass, 'timeout');
        assert.match(timedOut!.errorMessage ?? '', new RegExp(`herald listen reported no answer within ${SHORT_ANSWER_MS} ms`));

        // A closed stream leaves the listener: an event published meanwhile goes to the
        // reopened stream (the CLI reconnects with the same key).
        streamAbort.abort();
        const third = await publish('ProductDeleted');
        assert.equal(third.deliveries, 1);
        const reopened = await eventually(async () => {
          const r = await api.request(`/organizations/self/listeners/${created.id}/stream`, { headers: { authorization: cred.auth } });
          if (r.status === 409) {
            await r.body?.cancel();
            return undefined; // the server has not seen the old one close yet
          }
          return r;
        }, 'the stream reopened');
        assert.equal(reopened.status, 200);
        const again = reopened.body!.pipeThrough(new TextDecoderStream()).getReader();
        await readUntil(again, (t) => t.includes(third.messageId.slice(0, 8)) && t.includes('event: request'), 'the request made while it was closed');
        await again.cancel();
        // DELETE ends it: its subscription is deleted, a new event reaches nobody.
        assert.equal((await call('DELETE', `/organizations/self/listeners/${created.id}`)).status, 204);
        assert.equal((await call('GET', `/organizations/self/subscriptions/${created.id}/messages`)).status, 404);
        assert.equal((await publish('ProductDeleted')).deliveries, 0);
      });
    });
  });
}
