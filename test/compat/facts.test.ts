// One test per fact the real clients taught us about the original service
// (docs/compatibility.md), written from the facts, on both databases. Each failed on
// Herald before the drop-in work and passes after.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { v1 as uuidv1, version as uuidVersion } from 'uuid';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { checkInventoryRequest, checkPusherRequest, eventNameOf, startWebhookEnv, type WebhookEnv } from '../helpers/webhooks.js';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SPEC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

/** A raw TCP receiver: records each request's head exactly as its bytes came, answers 200. */
async function startRawReceiver(): Promise<{ url: string; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // One request per connection is enough here: answer once the head and body are in.
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end + 2).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      heads.push(head);
      buffered = Buffer.alloc(0);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      socket.end();
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    heads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const backend of testDatabases()) {
  describe(`facts of the original service: ${backend.name}`, () => {
    let w: WebhookEnv;
    let writer: TestCredential;
    before(async () => {
      w = await startWebhookEnv(backend);
      writer = w.cred;
    });
    after(() => w.stop());

    const subscribe = async (cred: TestCredential, eventNames: string[], tag: string) => {
      const r = await asCredential(w.h, cred)('POST', '/organizations/self/subscriptions', {
        uuid: uuidv1(),
        transportName: 'WEBHOOK',
        eventNames,
        destination: `${w.receiver.url}?s=${tag}`,
        contactEmail: 'hooks@example.com',
      });
      assert.equal(r.status, 200, await r.clone().text());
      return (await r.json()) as { uuid: string; signingKey: string };
    };

    it('fact 1: a trailing slash names the same route, with the same status rules', async () => {
      const auth = { authorization: writer.auth, 'content-type': 'application/json' };
      const token = await w.h.request('/token/', form({ grant_type: JWT_BEARER, client_id: 'any', assertion: writer.apiKey }));
      assert.equal(token.status, 200, await token.clone().text());
      const uuid = uuidv1();
      const created = await w.h.request('/organizations/self/subscriptions/', {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ uuid, transportName: 'WEBHOOK', eventNames: ['ProductCreated'], destination: w.receiver.url, contactEmail: 'a@b.se' }),
      });
      assert.equal(created.status, 200, await created.clone().text());
      const listed = await w.h.request('/organizations/self/subscriptions/', { headers: auth });
      assert.equal(listed.status, 200);
      assert.ok(((await listed.json()) as { uuid: string }[]).some((s) => s.uuid === uuid));
      const put = await w.h.request(`/organizations/self/subscriptions/${uuid}/`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ eventNames: ['ProductUpdated'] }),
      });
      assert.equal(put.status, 200, await put.clone().text());
      const noUuid = await w.h.request('/organizations/self/subscriptions/', { method: 'PUT', headers: auth, body: '{}' });
      assert.equal(noUuid.status, 405);
      assert.equal(((await noUuid.json()) as { errorType: string }).errorType, 'METHOD_NOT_ALLOWED');
      const del = await w.h.request(`/organizations/self/subscriptions/uuid/${uuid}/`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 204);
      assert.equal((await w.h.request('/users/self/', { headers: auth })).status, 200);
    });

    it('fact 2: API keys are signed JWTs of the original\'s shape, stored as a hash, revocable at once, exchanged at /token', async () => {
      const cred = await createCredential(w.h, ['READ:PRODUCT', 'WRITE:PRODUCT'], { organizationUuid: w.org });
      const parts = cred.apiKey.split('.');
      assert.equal(parts.length, 3, 'three parts');
      for (const p of parts.slice(0, 2)) assert.ok(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
      const header = decodeProtectedHeader(cred.apiKey);
      assert.equal(header.alg, 'RS256');
      assert.equal(typeof header.kid, 'string');
      const claims = decodeJwt(cred.apiKey) as Record<string, unknown>;
      assert.deepEqual(Object.keys(claims).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'renewed', 'scope', 'sub', 'type', 'user']);
      assert.equal(claims.type, 'user-assertion');
      assert.equal(claims.renewed, false);
      assert.deepEqual(claims.scope, ['READ:PRODUCT', 'WRITE:PRODUCT']);
      const self = (await (await w.h.request('/users/self', { headers: { authorization: cred.auth } })).json()) as { uuid: string };
      assert.deepEqual(claims.user, { userType: 'USER', uuid: self.uuid, orgUuid: w.org, userRole: 'OWNER' });
      assert.equal(claims.sub, self.uuid);
      assert.ok(typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat);
      assert.match(String(claims.client_id), /^[0-9a-f-]{36}$/);

      // Stored only as its SHA-256.
      const dump = JSON.stringify((await w.h.db.query('select * from api_keys')).rows);
      assert.ok(!dump.includes(cred.apiKey) && !dump.includes(parts[2]!), 'the key is not stored');
      assert.ok(dump.includes(createHash('sha256').update(cred.apiKey).digest('hex')));

      // Exchanged at POST /token exactly as before.
      const token = await w.h.request('/token', form({ grant_type: JWT_BEARER, client_id: 'partner', assertion: cred.apiKey }));
      assert.equal(token.status, 200);
      const { access_token } = (await token.json()) as { access_token: string };
      assert.equal((await w.h.request('/users/self', { headers: { authorization: `Bearer ${access_token}` } })).status, 200);

      // A JWT that decodes but was never issued (altered claims) is refused.
      const forged = `${parts[0]}.${Buffer.from(JSON.stringify({ ...claims, scope: ALL_SCOPES })).toString('base64url')}.${parts[2]}`;
      assert.equal((await w.h.request('/users/self', { headers: { authorization: `Bearer ${forged}` } })).status, 401);

      // Revoked: refused at once, directly and at /token.
      const del = await w.h.admin(`/admin/organizations/${w.org}/api-keys/${cred.apiKeyId}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      assert.equal((await w.h.request('/users/self', { headers: { authorization: cred.auth } })).status, 401);
      const again = await w.h.request('/token', form({ grant_type: JWT_BEARER, client_id: 'partner', assertion: cred.apiKey }));
      assert.equal(again.status, 400);
      assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
    });

    it('fact 2: a key issued before keys were JWTs (hk_live_...) keeps working', async () => {
      const legacy = `hk_live_${'L'.repeat(43)}`;
      const self = (await (await w.h.request('/users/self', { headers: { authorization: writer.auth } })).json()) as { uuid: string };
      await w.h.db.query(
        `insert into api_keys (id, organization_uuid, user_uuid, name, secret_hash, prefix, scopes, livemode, created_at)
         values ($1, $2, $3, 'legacy', $4, $5, $6, true, $7)`,
        [uuidv1(), w.org, self.uuid, createHash('sha256').update(legacy).digest('hex'), legacy.slice(0, 12), ['READ:PRODUCT'], w.clock.now()],
      );
      assert.equal((await w.h.request('/users/self', { headers: { authorization: `Bearer ${legacy}` } })).status, 200);
      const token = await w.h.request('/token', form({ grant_type: JWT_BEARER, client_id: 'c', assertion: legacy }));
      assert.equal(token.status, 200);
    });

    it('fact 3: GET /users/me answers like /users/self', async () => {
      const me = await w.h.request('/users/me', { headers: { authorization: writer.auth } });
      const self = await w.h.request('/users/self', { headers: { authorization: writer.auth } });
      assert.equal(me.status, 200);
      assert.deepEqual(await me.json(), await self.json());
      assert.equal((await w.h.request('/users/me')).status, 401);
    });

    it('fact 4: InventoryBalanceChanged carries updated (clientUuid: the key\'s client_id), externalUuid, and created on balanceBefore', async () => {
      const product = await w.call('POST', '/organizations/self/products', {
        name: 'Tea',
        variants: [{ name: 'Mug', price: { amount: 2500, currencyId: 'SEK' } }],
      });
      assert.equal(product.status, 201, await product.clone().text());
      const p = (await product.json()) as { uuid: string; variants: { uuid: string }[] };
      assert.equal((await w.call('POST', '/organizations/self/inventory/tracking', { productUuid: p.uuid })).status, 201);
      const externalUuid = uuidv1();
      // Through an access token minted from the key: the client is still the key's.
      const token = await w.h.request('/token', form({ grant_type: JWT_BEARER, client_id: 'partner', assertion: writer.apiKey }));
      const { access_token } = (await token.json()) as { access_token: string };
      const got = await w.deliveredBy(async () => {
        const r = await w.call(
          'PUT',
          '/organizations/self/inventory/balances',
          { externalUuid, changes: [{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, balance: '10' }] },
          { authorization: `Bearer ${access_token}` },
        );
        assert.equal(r.status, 200, await r.clone().text());
      });
      const delivered = got.filter((r) => eventNameOf(r) === 'InventoryBalanceChanged');
      assert.equal(delivered.length, 1);
      const { payload } = checkPusherRequest(delivered[0]!, w.signingKey);
      const updated = payload.updated as Record<string, unknown>;
      assert.deepEqual(Object.keys(updated).sort(), ['clientUuid', 'timestamp', 'userType', 'uuid']);
      assert.equal(updated.clientUuid, decodeJwt(writer.apiKey).client_id);
      assert.match(String(updated.timestamp), SPEC_TIMESTAMP);
      assert.equal(updated.userType, 'USER');
      assert.equal(payload.externalUuid, externalUuid);
      const beforeEntry = (payload.balanceBefore as Record<string, unknown>[])[0]!;
      assert.match(String(beforeEntry.created), SPEC_TIMESTAMP);
      assert.equal(beforeEntry.balance, '0');
      assert.equal((payload.balanceAfter as Record<string, unknown>[])[0]!.balance, '10');

      // Without an externalUuid in the request: null, never absent.
      const plain = await w.deliveredBy(async () => {
        const r = await w.call('PUT', '/organizations/self/inventory/balances', {
          changes: [{ productUuid: p.uuid, variantUuid: p.variants[0]!.uuid, change: '-1' }],
        });
        assert.equal(r.status, 200);
      });
      const second = checkPusherRequest(plain.find((r) => eventNameOf(r) === 'InventoryBalanceChanged')!, w.signingKey).payload;
      assert.ok('externalUuid' in second);
      assert.equal(second.externalUuid, null);

      // ProductUpdated names the product at the top too.
      const upd = await w.deliveredBy(async () => {
        const r = await w.call('PUT', `/organizations/self/products/${p.uuid}`, { name: 'Green tea', variants: (await (await w.call('GET', `/organizations/self/products/${p.uuid}`)).json() as { variants: unknown[] }).variants });
        assert.equal(r.status, 200, await r.clone().text());
      });
      const pu = checkPusherRequest(upd.find((r) => eventNameOf(r) === 'ProductUpdated')!, w.signingKey).payload;
      assert.equal(pu.uuid, p.uuid);
      assert.equal((pu.newEntity as { uuid: string }).uuid, p.uuid);
    });

    it('fact 5: deleting a key reaches subscribers of ApplicationConnectionRemoved or PersonalAssertionDeleted, once each, with payload.type', async () => {
      const cred = await createCredential(w.h, ['READ:PRODUCT'], { organizationUuid: w.org });
      const onlyAcr = await subscribe(cred, ['ApplicationConnectionRemoved'], 'acr');
      const both = await subscribe(cred, ['ApplicationConnectionRemoved', 'PersonalAssertionDeleted'], 'both');
      const unrelated = await subscribe(cred, ['ProductCreated'], 'products');
      const got = await w.deliveredBy(async () => {
        const del = await w.h.admin(`/admin/organizations/${w.org}/api-keys/${cred.apiKeyId}`, { method: 'DELETE' });
        assert.equal(del.status, 204);
      });
      const to = (tag: string) => got.filter((r) => r.path.endsWith(`?s=${tag}`));
      assert.equal(to('acr').length, 1, 'the ApplicationConnectionRemoved-only subscriber gets it');
      assert.equal(to('both').length, 1, 'one message, never two');
      assert.equal(to('products').length, 0);
      // Each gets it under the name it subscribed to (clients switch on eventName first),
      // and payload.type says which disconnection it is.
      for (const [tag, key, eventName] of [
        ['acr', onlyAcr.signingKey, 'ApplicationConnectionRemoved'],
        ['both', both.signingKey, 'PersonalAssertionDeleted'],
      ] as const) {
        const { body, payload } = checkPusherRequest(to(tag)[0]!, key);
        assert.equal(body.eventName, eventName, tag);
        assert.equal(payload.type, 'PersonalAssertionDeleted');
      }
      assert.ok(unrelated.uuid);

      // An app connection removed: ApplicationConnectionRemoved with its type.
      const conn = await w.h.admin(`/admin/organizations/${w.org}/app-connections`, {
        method: 'POST',
        body: JSON.stringify({ clientId: 'partner-app', scopes: ['READ:PRODUCT'] }),
      });
      assert.equal(conn.status, 201, await conn.clone().text());
      const { connectionId } = (await conn.json()) as { connectionId: string };
      const removed = await w.deliveredBy(async () => {
        assert.equal((await w.h.admin(`/admin/organizations/${w.org}/app-connections/${connectionId}`, { method: 'DELETE' })).status, 204);
      });
      const acr = removed.find((r) => eventNameOf(r) === 'ApplicationConnectionRemoved' && r.path.endsWith('?s=all'))!;
      assert.equal(checkPusherRequest(acr, w.signingKey).payload.type, 'ApplicationConnectionRemoved');
    });

    it('fact 6: header names go out in the original\'s spelling, byte for byte', async () => {
      const raw = await startRawReceiver();
      try {
        const r = await w.call('POST', '/organizations/self/subscriptions', {
          uuid: uuidv1(),
          transportName: 'WEBHOOK',
          eventNames: ['ProductCreated'],
          destination: raw.url,
          contactEmail: 'hooks@example.com',
        });
        assert.equal(r.status, 200, await r.clone().text());
        await w.deliveredBy(async () => {
          const p = await w.call('POST', '/organizations/self/products', { name: 'Raw', variants: [{ name: 'V', price: { amount: 1, currencyId: 'SEK' } }] });
          assert.equal(p.status, 201);
        });
        assert.equal(raw.heads.length, 2, 'the TestMessage and the ProductCreated');
        for (const head of raw.heads) {
          assert.ok(head.startsWith('POST /hook HTTP/1.1\r\n'), head);
          assert.match(head, /\r\nX-iZettle-Signature: [0-9a-f]{64}\r\n/);
          assert.ok(head.includes('\r\nContent-Type: application/json\r\n'), head);
          assert.ok(head.includes('\r\nUser-Agent: PusherApplication (WebHookPushClient)\r\n'), head);
        }
      } finally {
        await raw.close();
      }
    });

    it('fact 7: messageId is a version-5 UUID, and a producer\'s id names it (the same id stays one message)', async () => {
      const got = await w.deliveredBy(async () => {
        const p = await w.call('POST', '/organizations/self/products', { name: 'V5', variants: [{ name: 'V', price: { amount: 1, currencyId: 'SEK' } }] });
        assert.equal(p.status, 201);
      });
      const { body } = checkPusherRequest(got.find((r) => eventNameOf(r) === 'ProductCreated')!, w.signingKey);
      assert.equal(uuidVersion(body.messageId), 5);
      assert.equal(uuidVersion(body.messageUuid), 1);

      const publish = (messageId: string) =>
        w.h.admin(`/admin/organizations/${w.org}/events`, {
          method: 'POST',
          body: JSON.stringify({ eventName: 'PaymentCreated', payload: { amount: 1 }, messageId }),
        });
      const first = (await (await publish('order-4711')).json()) as { messageId: string; duplicate: boolean };
      const second = (await (await publish('order-4711')).json()) as { messageId: string; duplicate: boolean };
      assert.equal(uuidVersion(first.messageId), 5);
      assert.deepEqual(second, { ...second, messageId: first.messageId, duplicate: true });
      const other = (await (await publish('order-4712')).json()) as { messageId: string };
      assert.notEqual(other.messageId, first.messageId);
      // A producer id that already is a v5 UUID is kept.
      const v5 = '6e6d5284-1d31-544f-9c1c-05298cb0156a';
      assert.equal(((await (await publish(v5)).json()) as { messageId: string }).messageId, v5);
    });

    it('fact 8: the Inventory envelope\'s attemptId is 24 hex, like its id, and new per attempt', async () => {
      await w.settle(); // what earlier tests left due goes out before the receiver fails once
      let failed = false;
      w.receiver.respondWith(() => {
        if (failed) return { status: 200 };
        failed = true;
        return { status: 503 };
      });
      try {
        const first = await w.deliveredBy(async () => {
          const r = await w.call('POST', '/payment-terminals', {
            paymentTerminal: { name: 'T8', protocol: 'ws', ip: '10.0.0.8', locationId: '5f243d100617680712e78dd7', partNumber: 'TRD1', serialNumber: 'S8' },
          });
          assert.equal(r.status, 200, await r.clone().text());
        });
        const a = checkInventoryRequest(first.find((r) => eventNameOf(r) === 'paymentTerminals.created')!, w.signingKey);
        const retried = await w.deliveredBy(async () => w.clock.advance(61_000));
        const b = checkInventoryRequest(retried.find((r) => eventNameOf(r) === 'paymentTerminals.created')!, w.signingKey);
        for (const id of [a.id, a.attemptId, b.attemptId]) assert.match(id, /^[0-9a-f]{24}$/);
        assert.equal(a.id, b.id);
        assert.notEqual(a.attemptId, b.attemptId);
      } finally {
        w.receiver.respondWith(200);
      }
    });

    it('signatures still verify as the original signs them (X-iZettle-Signature over timestamp.payload)', async () => {
      const got = await w.deliveredBy(async () => {
        await w.call('POST', '/organizations/self/products', { name: 'Sig', variants: [{ name: 'V', price: { amount: 1, currencyId: 'SEK' } }] });
      });
      const r = got.find((x) => eventNameOf(x) === 'ProductCreated')!;
      const b = r.json as { timestamp: string; payload: string };
      const expected = createHmac('sha256', Buffer.from(w.signingKey, 'utf8')).update(`${b.timestamp}.${b.payload}`).digest('hex');
      assert.equal(r.headers['x-izettle-signature'], expected);
    });
  });
}
