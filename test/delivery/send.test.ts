import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Resolve } from '../../src/domain/destinations.js';
import { EXCERPT_BYTES, makeSender, type Sender, type SendResult } from '../../src/delivery/send.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const BODY = '{"hello":"world"}';
const HEADERS = { 'content-type': 'application/json', 'x-test': 'yes' };

const failure = (r: SendResult) => {
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as Extract<SendResult, { ok: false }>;
};

async function closedPort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('makeSender', () => {
  let receiver: TestReceiver;
  let sender: Sender;
  before(async () => {
    receiver = await startReceiver();
    sender = makeSender({ timeoutMs: 2000, allowInsecure: true });
  });
  after(async () => {
    await sender.close();
    await receiver.close();
  });
  beforeEach(() => receiver.reset());

  it('POSTs the body and headers and reports a 2xx as success', async () => {
    receiver.respondWith(() => ({ status: 202, body: 'accepted' }));
    const r = await sender.send(`${receiver.url}?q=1`, BODY, HEADERS);
    assert.equal(r.ok, true);
    assert.ok(r.ok);
    assert.equal(r.status, 202);
    assert.equal(r.excerpt, 'accepted');
    assert.ok(r.latencyMs >= 0 && Number.isInteger(r.latencyMs));
    const [req] = receiver.requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/hook?q=1');
    assert.equal(req!.body, BODY);
    assert.equal(req!.headers['x-test'], 'yes');
    assert.equal(req!.headers['content-type'], 'application/json');
  });

  it('reports a 500 as http_status with the excerpt', async () => {
    receiver.respondWith(() => ({ status: 500, body: 'boom' }));
    const r = failure(await sender.send(receiver.url, BODY, HEADERS));
    assert.equal(r.errorClass, 'http_status');
    assert.equal(r.status, 500);
    assert.equal(r.excerpt, 'boom');
    assert.equal(r.retryAfter, undefined);
  });

  it('does not follow a 301: a redirect failure, one request', async () => {
    receiver.respondWith((req) =>
      req.path === '/hook' ? { status: 301, headers: { location: '/elsewhere' } } : { status: 200 },
    );
    const r = failure(await sender.send(receiver.url, BODY, HEADERS));
    assert.equal(r.errorClass, 'redirect');
    assert.equal(r.status, 301);
    assert.match(r.message, /\/elsewhere/);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(receiver.requests.length, 1);
  });

  it('reports 410 Gone as http_status 410', async () => {
    receiver.respondWith(410);
    const r = failure(await sender.send(receiver.url, BODY, HEADERS));
    assert.deepEqual([r.errorClass, r.status], ['http_status', 410]);
  });

  it('captures Retry-After', async () => {
    receiver.respondWith(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const r = failure(await sender.send(receiver.url, BODY, HEADERS));
    assert.deepEqual([r.status, r.retryAfter], [429, '120']);
    receiver.respondWith(() => ({ status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2037 07:28:00 GMT' } }));
    assert.equal(failure(await sender.send(receiver.url, BODY, HEADERS)).retryAfter, 'Wed, 21 Oct 2037 07:28:00 GMT');
  });

  it('follows the receiver when its answer is switched mid-test', async () => {
    receiver.respondWith(500);
    assert.equal((await sender.send(receiver.url, BODY, HEADERS)).ok, false);
    receiver.respondWith(200);
    assert.equal((await sender.send(receiver.url, BODY, HEADERS)).ok, true);
  });

  it('keeps at most the first 4096 bytes of the response body', async () => {
    const big = 'abcdefghij'.repeat(1000);
    receiver.respondWith(() => ({ status: 500, body: big }));
    const r = failure(await sender.send(receiver.url, BODY, HEADERS));
    assert.equal(r.excerpt, big.slice(0, EXCERPT_BYTES));
    receiver.respondWith(() => ({ status: 200, body: 'x'.repeat(2_000_000) }));
    const ok = await sender.send(receiver.url, BODY, HEADERS);
    assert.ok(ok.ok);
    assert.equal(ok.excerpt.length, EXCERPT_BYTES);
    // The sender still works after dropping a connection mid-body.
    receiver.respondWith(200);
    assert.equal((await sender.send(receiver.url, BODY, HEADERS)).ok, true);
  });

  it('reuses keep-alive connections to one origin', async () => {
    const fresh = makeSender({ timeoutMs: 2000, allowInsecure: true });
    try {
      for (let i = 0; i < 30; i++) assert.equal((await fresh.send(receiver.url, BODY, HEADERS)).ok, true);
      assert.equal(receiver.requests.length, 30);
      // undici may hand the next request to a second socket while the first is still
      // being released after the body ends; what matters is that sockets are reused.
      assert.ok(receiver.connectionCount <= 2, `${receiver.connectionCount} connections for 30 requests`);
    } finally {
      await fresh.close();
    }
  });

  it('bounds connections per origin under concurrency', async () => {
    const bounded = makeSender({ timeoutMs: 2000, allowInsecure: true, maxConnectionsPerOrigin: 4 });
    try {
      receiver.respondWith(() => ({ status: 200, delayMs: 20 }));
      const results = await Promise.all(Array.from({ length: 40 }, () => bounded.send(receiver.url, BODY, HEADERS)));
      assert.ok(results.every((r) => r.ok));
      assert.equal(receiver.requests.length, 40);
      assert.ok(receiver.connectionCount <= 4, `${receiver.connectionCount} connections`);
    } finally {
      await bounded.close();
    }
  });

  it('times out a slow receiver', async () => {
    const fast = makeSender({ timeoutMs: 300, allowInsecure: true });
    try {
      receiver.respondWith(() => ({ status: 200, delayMs: 1500 }));
      const r = failure(await fast.send(receiver.url, BODY, HEADERS));
      assert.equal(r.errorClass, 'timeout');
      assert.ok(r.latencyMs >= 290 && r.latencyMs < 1200, `${r.latencyMs} ms`);
    } finally {
      await fast.close();
    }
  });

  it('times out a receiver that sends headers and then trickles the body', async () => {
    const trickle = createHttpServer((_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r));
    const fast = makeSender({ timeoutMs: 300, allowInsecure: true });
    try {
      const { port } = trickle.address() as AddressInfo;
      const r = failure(await fast.send(`http://127.0.0.1:${port}/hook`, BODY, HEADERS));
      assert.equal(r.errorClass, 'timeout');
      assert.ok(r.latencyMs < 1000, `${r.latencyMs} ms`);
    } finally {
      await fast.close();
      trickle.closeAllConnections();
      await new Promise((r) => trickle.close(r));
    }
  });

  it('reports connection refused as connect', async () => {
    const r = failure(await sender.send(`http://127.0.0.1:${await closedPort()}/hook`, BODY, HEADERS));
    assert.equal(r.errorClass, 'connect');
  });

  it('reports an unknown name as dns', async () => {
    const r = failure(await sender.send('http://no-such-host.invalid/hook', BODY, HEADERS));
    assert.equal(r.errorClass, 'dns');
    assert.match(r.message, /no-such-host\.invalid/);
  });

  it('resolves names through the given resolver at connect time', async () => {
    const resolve: Resolve = async (host) => (host === 'hooks.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const custom = makeSender({ timeoutMs: 2000, allowInsecure: true, resolve });
    try {
      const r = await custom.send(`http://hooks.test:${receiver.port}/hook`, BODY, HEADERS);
      assert.equal(r.ok, true);
      assert.equal(receiver.requests[0]!.headers.host, `hooks.test:${receiver.port}`);
    } finally {
      await custom.close();
    }
  });

  describe('destination safety (insecure destinations not allowed)', () => {
    let safe: Sender;
    before(() => {
      safe = makeSender({ timeoutMs: 2000, allowInsecure: false });
    });
    after(() => safe.close());

    it('refuses a loopback IP literal before connecting', async () => {
      const r = failure(await safe.send(receiver.url, BODY, HEADERS));
      assert.equal(r.errorClass, 'unsafe_destination');
      assert.equal(receiver.connectionCount, 0);
      assert.equal(receiver.requests.length, 0);
    });

    it('refuses, at connect time, a name that resolves to loopback: the receiver sees nothing', async () => {
      const r = failure(await safe.send(`https://localhost:${receiver.port}/hook`, BODY, HEADERS));
      assert.equal(r.errorClass, 'unsafe_destination');
      assert.match(r.message, /localhost resolves to a non-public address/);
      assert.doesNotMatch(r.message, /127\.0\.0\.1|::1/, "the internal address is not revealed");
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(receiver.connectionCount, 0);
      assert.equal(receiver.requests.length, 0);
    });

    it('refuses a name whose answer mixes a public and a private address (rebinding)', async () => {
      let calls = 0;
      // First answer public, then private: what a rebinding attacker's DNS does.
      const resolve: Resolve = async () => {
        calls += 1;
        return calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
      };
      const rebinding = makeSender({ timeoutMs: 2000, allowInsecure: false, resolve });
      try {
        // Herald checked the name at subscribe time (answer 1); at connect time the answer is loopback.
        await resolve('evil.test');
        const r = failure(await rebinding.send(`https://evil.test:${receiver.port}/hook`, BODY, HEADERS));
        assert.equal(r.errorClass, 'unsafe_destination');
        assert.match(r.message, /evil\.test resolves to a non-public address/);
        assert.doesNotMatch(r.message, /127\.0\.0\.1/, 'the internal address is not revealed');
        assert.equal(receiver.connectionCount, 0);
      } finally {
        await rebinding.close();
      }
    });

    it('refuses plain http', async () => {
      const r = failure(await safe.send('http://example.com/hook', BODY, HEADERS));
      assert.equal(r.errorClass, 'unsafe_destination');
    });
  });

  it('reports a malformed URL as other', async () => {
    const r = failure(await sender.send('not a url', BODY, HEADERS));
    assert.equal(r.errorClass, 'other');
  });

  describe('TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reports an untrusted certificate as tls', { skip: made.status !== 0 && 'openssl not available' }, async () => {
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.end('ok'),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const { port } = server.address() as AddressInfo;
        const r = failure(await sender.send(`https://localhost:${port}/hook`, BODY, HEADERS));
        assert.equal(r.errorClass, 'tls', r.message);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });
  });
});
