import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  heraldSignature,
  pusherSignature,
  standardWebhooksHeaders,
  standardWebhooksSecret,
} from '../../src/delivery/sign.js';

// An independent HMAC: WebCrypto, not node:crypto's createHmac.
async function subtleHmac(key: string, message: string): Promise<Buffer> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return Buffer.from(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message)));
}

const KEY = 'a3f1c9e07b2d48e6a5c4f3b2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2';
const TIMESTAMP = '2021-04-19T13:17:56.585Z';
const PAYLOAD = '{"purchaseUuid":"e2b0c9d0-a10b-11eb-8f00-0242ac130003","amount":1200}';

describe('pusherSignature', () => {
  it('matches a fixed vector', () => {
    // Computed with: printf '%s' "$TIMESTAMP.$PAYLOAD" | openssl dgst -sha256 -hmac "$KEY"
    assert.equal(pusherSignature(KEY, TIMESTAMP, PAYLOAD), 'fd5a1c062d186a5da490549c5cf755461a04c203ff5f7e0413e755c01cb466e1');
  });
  it('is lowercase hex HMAC-SHA256 over "<timestamp>.<payload>" keyed with the UTF-8 key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string(), fc.string({ unit: 'grapheme' }), async (key, ts, payload) => {
        const want = (await subtleHmac(key, `${ts}.${payload}`)).toString('hex');
        assert.equal(pusherSignature(key, ts, payload), want);
        assert.match(want, /^[0-9a-f]{64}$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('standardWebhooksSecret', () => {
  it('is whsec_ + base64 of the UTF-8 bytes of the signing key', () => {
    assert.equal(standardWebhooksSecret('key'), 'whsec_a2V5');
    assert.equal(standardWebhooksSecret('clé'), `whsec_${Buffer.from([0x63, 0x6c, 0xc3, 0xa9]).toString('base64')}`);
  });
});

describe('standardWebhooksHeaders', () => {
  it('matches the Standard Webhooks specification example (through the official library)', () => {
    // The example of the specification (standard-webhooks spec, "Signature scheme").
    const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const sig = wh.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}');
    assert.equal(sig, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
  it('matches a fixed vector and an independent HMAC over "<id>.<ts>.<body>"', async () => {
    const h = standardWebhooksHeaders({ signingKey: KEY, msgId: 'msg_1', timestampSeconds: 1618838276, body: '{"a":1}' });
    assert.equal(h['webhook-id'], 'msg_1');
    assert.equal(h['webhook-timestamp'], '1618838276');
    const want = (await subtleHmac(KEY, 'msg_1.1618838276.{"a":1}')).toString('base64');
    assert.equal(h['webhook-signature'], `v1,${want}`);
    assert.equal(h['webhook-signature'], 'v1,Kr8s6vE6mE2bP9yzHTYrY9B6pPdq7NfdOr6oAM40eMg=');
  });
  it('agrees with the official library signing with the documented secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), fc.uuid(), fc.nat(2 ** 31), fc.string(), (key, id, ts, body) => {
        const ours = standardWebhooksHeaders({ signingKey: key, msgId: id, timestampSeconds: ts, body });
        assert.equal(ours['webhook-signature'], new Webhook(standardWebhooksSecret(key)).sign(id, new Date(ts * 1000), body));
      }),
      { numRuns: 300 },
    );
  });
  it('verifies with the official library, and a flipped byte anywhere fails', () => {
    const now = Math.floor(Date.now() / 1000);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: 'grapheme' }),
        fc.uuid(),
        fc.json(),
        fc.nat(),
        fc.constantFrom('body', 'id', 'signature'),
        (key, id, body, at, part) => {
          const headers = standardWebhooksHeaders({ signingKey: key, msgId: id, timestampSeconds: now, body });
          const wh = new Webhook(standardWebhooksSecret(key));
          assert.deepEqual(wh.verify(body, { ...headers }), JSON.parse(body));
          const flip = (s: string) => {
            const b = Buffer.from(s, 'utf8');
            const i = at % b.length;
            b[i] = b[i]! ^ 0x01;
            return b.toString('latin1');
          };
          const tampered =
            part === 'body'
              ? { body: flip(body), headers }
              : part === 'id'
                ? { body, headers: { ...headers, 'webhook-id': flip(id) } }
                : { body, headers: { ...headers, 'webhook-signature': `v1,${flip(headers['webhook-signature'].slice(3))}` } };
          assert.throws(() => wh.verify(tampered.body, { ...tampered.headers }));
        },
      ),
      { numRuns: 300 },
    );
  });
  it('is refused by the library under another key', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhooksHeaders({ signingKey: 'one', msgId: 'm', timestampSeconds: now, body: '{}' });
    assert.throws(() => new Webhook(standardWebhooksSecret('two')).verify('{}', { ...headers }));
  });
});

describe('heraldSignature', () => {
  it('is t=<unix>,v1=<hex HMAC over "<unix>.<body>">', async () => {
    const body = '{"id":"5f243d100617680712e78dd7"}';
    const want = (await subtleHmac(KEY, `1605014530.${body}`)).toString('hex');
    assert.equal(heraldSignature(KEY, 1605014530, body), `t=1605014530,v1=${want}`);
  });
});
