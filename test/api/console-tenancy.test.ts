// One organization's Console session against another organization's data, on every
// route of the API a session can reach (read from the OpenAPI document, so a route added
// later is covered): it reads nothing of the other organization and changes nothing,
// whether the path names the other organization or names its own and the other's ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, subscribe, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { eventually } from '../helpers/wait.js';

const SCOPES = [
  'READ:PURCHASE',
  'READ:PRODUCT',
  'READ:FINANCE',
  'READ:USERINFO',
  'WRITE:PRODUCT',
  'WRITE:PURCHASE',
  'WRITE:USERINFO',
  'READ:PAYMENT_TERMINAL',
  'WRITE:PAYMENT_TERMINAL',
] as const;

type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

for (const backend of testDatabases()) {
  describe(`Console sessions across organizations: ${backend.name}`, () => {
    let h: TestHerald;
    let receiver: TestReceiver;
    let mine: TestCredential;
    let theirs: TestCredential;
    let cookie: string;
    let csrf: string;
    /** The other organization's ids, by path parameter name. */
    const ids: Record<string, string> = {};
    /** Strings of the other organization that must never appear in an answer to mine. */
    let secrets: string[] = [];
    let snapshot: string;

    /**
     * A request with my session and its CSRF token (so a change reaches the route's own
     * checks), a `{}` body where the method takes one. The signal is a safety net for a
     * stream that would open and never end.
     */
    const withSession = (method: string, path: string) =>
      h.request(path, {
        method: method.toUpperCase(),
        headers: {
          cookie,
          'x-csrf-token': csrf,
          ...(method === 'get' || method === 'delete' ? {} : { 'content-type': 'application/json' }),
        },
        body: method === 'get' || method === 'delete' ? undefined : '{}',
        signal: AbortSignal.timeout(30_000),
      });

    /** What the other organization sees of its own data: must be the same before and after. */
    async function theirView(): Promise<string> {
      const as = asCredential(h, theirs);
      const subs = await (await as('GET', '/organizations/self/subscriptions')).json();
      const messages = await (await as('GET', `/organizations/self/subscriptions/${ids.subscriptionUuid}/messages`)).json();
      const attempts = await (
        await as('GET', `/organizations/self/subscriptions/${ids.subscriptionUuid}/messages/${ids.messageId}/attempts`)
      ).json();
      const products = await (await as('GET', '/organizations/self/products')).json();
      const terminal = await (await as('GET', `/payment-terminals/${ids.paymentTerminalId}`)).json();
      const org = await (await as('GET', '/organizations/self')).json();
      const strip = (m: { messages: { nextAttempt: unknown }[]; destination: unknown }) => ({ ...m, destination: undefined });
      return JSON.stringify({ subs, messages: strip(messages as never), attempts, products, terminal, org });
    }

    before(async () => {
      h = await startTestHerald(backend, { roles: { api: true, worker: true }, config: { retrySchedule: [3600] } });
      receiver = await startReceiver();
      // The TestMessage passes; the other organization's message then fails and stays undelivered.
      receiver.respondWith((req) =>
        (req.json as { eventName?: string } | undefined)?.eventName === 'TestMessage'
          ? { status: 200 }
          : { status: 500, body: 'their receiver says no' },
      );
      mine = await createCredential(h, [...SCOPES]);
      theirs = await createCredential(h, [...SCOPES]);
      const as = asCredential(h, theirs);

      const subscription = await subscribe(h, theirs, {
        eventNames: ['PurchaseCreated'],
        destination: `${receiver.url}?their-secret-destination`,
        contactEmail: 'their-contact@theirs.example',
      });
      ids.subscriptionUuid = subscription.uuid;
      const test = await as('POST', `/organizations/self/subscriptions/${subscription.uuid}/test-event`, { eventName: 'PurchaseCreated' });
      assert.equal(test.status, 202);
      ids.messageId = ((await test.json()) as { messageId: string }).messageId;
      await receiver.waitFor(2);
      const undelivered = await eventually(async () => {
        const r = (await (await as('GET', '/undelivered')).json()) as { data?: { _id: string }[]; undelivered?: { _id: string }[] };
        const list = r.undelivered ?? r.data ?? [];
        return list[0]?._id;
      }, 'their undelivered message is listed');
      ids.id = undelivered;

      const product = await as('POST', '/organizations/self/products', {
        name: 'Their product',
        variants: [{ name: 'Only', price: { amount: 100, currencyId: 'SEK' } }],
      });
      assert.ok(product.status < 300, `product: ${product.status}`);
      const productBody = (await product.json()) as { uuid: string };
      ids.productUuid = productBody.uuid;
      const terminal = await as('POST', '/payment-terminals', {
        paymentTerminal: {
          name: 'Their terminal',
          protocol: 'ws',
          ip: '192.168.10.10',
          locationId: '5f243d100617680712e78dd7',
          partNumber: 'TRD30110877A',
          serialNumber: 'THEIR-SERIAL',
        },
      });
      assert.equal(terminal.status, 200, await terminal.clone().text());
      ids.paymentTerminalId = ((await terminal.json()) as { paymentTerminal: { _id: string } }).paymentTerminal._id;
      const listener = await as('POST', '/organizations/self/listeners', { eventNames: ['ProductDeleted'] });
      assert.ok(listener.status < 300, `listener: ${listener.status}`);
      ids.listenerId = ((await listener.json()) as { id: string }).id;
      ids.requestId = '6f1c1b2e-0000-4000-8000-000000000001';
      ids.purchaseUuid = '6f1c1b2e-0000-1000-8000-000000000002';
      ids.locationUuid = '6f1c1b2e-0000-1000-8000-000000000003';
      secrets = [
        'their-secret-destination',
        'their-contact@theirs.example',
        subscription.signingKey,
        'Their product',
        'THEIR-SERIAL',
        'their receiver says no',
        ids.messageId,
      ];

      const signIn = await h.request('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey: mine.apiKey }),
      });
      assert.equal(signIn.status, 200);
      cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      csrf = ((await signIn.json()) as { csrfToken: string }).csrfToken;
      snapshot = await theirView();
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    it('no route answers my session with their data, or lets it change anything of theirs', async () => {
      const doc = (await (await h.request('/openapi.json')).json()) as {
        paths: Record<string, Partial<Record<Method, { security?: unknown[] }>>>;
      };
      let checked = 0;
      const sessionRoutes = new Set<string>();
      for (const [template, operations] of Object.entries(doc.paths)) {
        if (template.startsWith('/admin') || template.startsWith('/console')) continue;
        for (const [method, op] of Object.entries(operations) as [Method, { security?: Record<string, unknown>[] }][]) {
          if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
          if (Array.isArray(op.security) && op.security.length === 0) continue; // public: /events, /token, probes
          // The routes the Console calls take its session; the others answer it 401.
          const takesSession = (op.security ?? []).some((s) => 'consoleSession' in s);
          const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
          // Their organization in the path, or mine with their ids.
          const variants = params.includes('organizationUuid') ? [theirs.organizationUuid, 'self'] : ['self'];
          for (const org of variants) {
            if (org === 'self' && params.length === 1 && params[0] === 'organizationUuid' && takesSession) continue; // my own data
            if (org === 'self' && params.length === 0 && takesSession) continue;
            const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
              if (name === 'organizationUuid') return org;
              const v = ids[name];
              assert.ok(v, `no id of theirs for {${name}} in ${template}: add one to this test`);
              return v;
            });
            const res = await withSession(method, path);
            const text = await res.text();
            const what = `${method.toUpperCase()} ${path} → ${res.status} ${text.slice(0, 200)}`;
            // Exactly: 401 where the session is not a credential, 403 naming their
            // organization, 404 for their subscription or message under mine.
            assert.equal(res.status, !takesSession ? 401 : org === 'self' ? 404 : 403, what);
            for (const s of secrets) assert.ok(!text.includes(s), `${what} shows their "${s}"`);
            checked++;
            if (takesSession) sessionRoutes.add(`${method} ${template}`);
          }
        }
      }
      assert.ok(checked >= 30, `only ${checked} requests checked`);
      // Every route the Console's subscriber views call was among them.
      for (const r of [
        'get /organizations/{organizationUuid}/subscription-stats',
        'put /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}',
        'delete /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}',
        'get /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages',
        'get /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/attempts',
        'post /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend',
        'post /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/resend',
        'post /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/test-event',
        'post /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/rotate-signing-key',
      ]) {
        assert.ok(sessionRoutes.has(r), `${r} was not checked with the session`);
      }
      assert.equal(await theirView(), snapshot, 'their data changed');
    });

    it('my own lists show none of theirs', async () => {
      for (const path of ['/organizations/self/subscriptions', '/organizations/self/subscription-stats', '/organizations/self/attempts']) {
        const res = await h.request(path, { headers: { cookie } });
        const text = await res.text();
        assert.equal(res.status, 200, `${path}: ${text.slice(0, 200)}`);
        for (const s of [...secrets, ids.subscriptionUuid!, ids.paymentTerminalId!])
          assert.ok(!text.includes(s), `${path} shows their "${s}"`);
      }
    });

    it('my session opens no admin route', async () => {
      const doc = (await (await h.request('/openapi.json')).json()) as { paths: Record<string, Partial<Record<Method, unknown>>> };
      for (const [template, operations] of Object.entries(doc.paths)) {
        if (!template.startsWith('/admin')) continue;
        for (const method of Object.keys(operations)) {
          const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
            name === 'organizationUuid' ? theirs.organizationUuid : (ids[name] ?? '00000000-0000-1000-8000-000000000000'),
          );
          const res = await withSession(method, path);
          assert.equal(res.status, 401, `${method} ${path}`);
        }
      }
      assert.equal(await theirView(), snapshot);
    });
  });
}
