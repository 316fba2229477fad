// A body over the 1 MiB limit is 413 with the spec's error body, and the 413 reaches the
// client even when the client sends its whole 10 MB body before it reads anything (a
// reset, EPIPE, before src/api/plugins/lingering-close.ts); the draining that makes
// this work is bounded in bytes and in silence. The client here is plain HTTP/1.1 on a
// socket, so what it sends and when it reads are exactly as written. The database plays
// no part: PGlite only.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LINGER_MAX_BYTES, LINGER_MAX_MS } from '../../src/api/plugins/lingering-close.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';

const TEN_MB = 10 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 0x61);
/** Safety net against a hung test, never a budget: every wait below ends on an event. */
const SAFETY_NET_MS = 120_000;

interface Exchange {
  /** Body bytes the client wrote. */
  written: number;
  /** Everything the server sent. */
  received: string;
  /** The socket error the client saw (EPIPE, ECONNRESET), if any. */
  error?: string;
}

interface ClientOptions {
  path: string;
  auth: string;
  /** `length`: a Content-Length of `total`; `chunked`: Transfer-Encoding: chunked. */
  framing: 'length' | 'chunked';
  total: number;
  /** Read only once the whole body is written (what many clients do), or all along. */
  readAfterWriting: boolean;
  /** Keep sending after Herald has closed its side (a hostile client). */
  ignoreClose?: boolean;
}

/**
 * Sends a POST whose body streams in 64 KiB pieces, each written once the one before is
 * flushed, and resolves when the connection closes.
 */
function post(url: string, o: ClientOptions): Promise<Exchange> {
  const { port, hostname } = new URL(url);
  const socket = net.connect({ port: Number(port), host: hostname, allowHalfOpen: true });
  const out: Exchange = { written: 0, received: '' };
  const framing = o.framing === 'length' ? `Content-Length: ${o.total}` : 'Transfer-Encoding: chunked';
  socket.write(`POST ${o.path} HTTP/1.1\r\nHost: herald\r\nAuthorization: ${o.auth}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
  if (o.readAfterWriting) socket.pause();
  socket.on('data', (d) => (out.received += d.toString('latin1')));
  socket.on('error', (e: NodeJS.ErrnoException) => (out.error ??= e.code ?? e.message));
  // Herald has closed its side: so does the client (it sends nothing more).
  if (!o.ignoreClose) socket.on('end', () => socket.end());
  const writeNext = () => {
    if (socket.destroyed || socket.writableEnded) return;
    if (out.written >= o.total) {
      if (o.framing === 'chunked') socket.write('0\r\n\r\n');
      if (o.ignoreClose) socket.end(); // it has sent it all: now it may go
      socket.resume();
      return;
    }
    const piece = PIECE.subarray(0, Math.min(PIECE.length, o.total - out.written));
    out.written += piece.length;
    const next = () => setImmediate(writeNext);
    if (o.framing === 'length') socket.write(piece, next);
    else socket.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]), next);
  };
  writeNext();
  return within(new Promise((resolve) => socket.on('close', () => resolve(out))), 'the connection to close');
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const net = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`safety net: waited ${SAFETY_NET_MS} ms for ${what}`)), SAFETY_NET_MS);
  });
  return Promise.race([p, net]).finally(() => clearTimeout(timer));
}

/** The status, headers and JSON body of the one answer in `raw`. */
function answer(raw: string): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown> };
}

function assertErrorAnswer(x: Exchange, status: number, errorType: string) {
  assert.ok(x.received.startsWith('HTTP/1.1 '), `an answer, not a reset (${x.error ?? 'no error'}; ${x.written} bytes written)`);
  const a = answer(x.received);
  assert.equal(a.status, status);
  assert.equal(a.headers.connection, 'close');
  assert.deepEqual(Object.keys(a.body).sort(), ['developerMessage', 'errorType', 'violations']);
  assert.equal(a.body.errorType, errorType);
}

describe('body size limit: a client streaming 10 MB receives the 413', () => {
  let h: TestHerald;
  let cred: TestCredential;
  const products = '/organizations/self/products';
  before(async () => {
    h = await startTestHerald(testDatabases()[0]!);
    cred = await createCredential(h, ALL_SCOPES);
  });
  after(() => h.stop());

  for (const framing of ['chunked', 'length'] as const) {
    it(`${framing === 'chunked' ? 'chunked' : 'with a Content-Length'}, read only after the whole body is sent: 413 with the error body, no reset`, async () => {
      const x = await post(h.url, { path: products, auth: cred.auth, framing, total: TEN_MB, readAfterWriting: true });
      assert.equal(x.error, undefined, `no ${x.error} after ${x.written} bytes`);
      assert.equal(x.written, TEN_MB);
      assertErrorAnswer(x, 413, 'PAYLOAD_TOO_LARGE');
    });
  }

  it('a Content-Length over the limit is refused at once, before a byte of the body', async () => {
    const { port, hostname } = new URL(h.url);
    const socket = net.connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    let received = '';
    const answered = new Promise<void>((resolve) =>
      socket.on('data', (d) => {
        received += d.toString('latin1');
        const [head, body] = received.split('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(head!)?.[1];
        if (body !== undefined && length !== undefined && body.length >= Number(length)) resolve();
      }),
    );
    const closed = new Promise<string | undefined>((resolve) => {
      let error: string | undefined;
      socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code));
      socket.on('close', () => resolve(error));
    });
    socket.write(`POST ${products} HTTP/1.1\r\nHost: herald\r\nAuthorization: ${cred.auth}\r\nContent-Type: application/json\r\nContent-Length: ${TEN_MB}\r\n\r\n`);
    await within(answered, 'the 413 before any body byte');
    assert.equal(answer(received).status, 413);
    // The body sent after the answer is drained; then the connection closes cleanly.
    for (let sent = 0; sent < TEN_MB && !socket.destroyed; sent += PIECE.length) {
      if (!socket.write(PIECE)) await within(Promise.race([new Promise((r) => socket.once('drain', r)), closed]), 'Herald to read on');
    }
    socket.end();
    assert.equal(await within(closed, 'the connection to close'), undefined, 'closed without a reset');
  });

  it('an answer given before the body is read (401) reaches the client too', async () => {
    const x = await post(h.url, { path: products, auth: 'Bearer not-a-credential', framing: 'length', total: TEN_MB, readAfterWriting: true });
    assert.equal(x.error, undefined, `no ${x.error} after ${x.written} bytes`);
    assertErrorAnswer(x, 401, 'UNAUTHORIZED');
  });

  it(`a client that never stops sending is cut off after ${LINGER_MAX_BYTES / 1024 / 1024} MiB`, async () => {
    // Reads all along, so it sees the 413 at once; it would send 4 times the bound.
    const x = await post(h.url, { path: products, auth: cred.auth, framing: 'chunked', total: 4 * LINGER_MAX_BYTES, readAfterWriting: false, ignoreClose: true });
    assert.equal(answer(x.received).status, 413);
    assert.ok(x.written > LINGER_MAX_BYTES && x.written < LINGER_MAX_BYTES + 32 * 1024 * 1024, `cut off after ${x.written} bytes`);
  });

  it('a client that goes silent after the answer is disconnected before the overall deadline', async () => {
    const serverSide = new Promise<net.Socket>((resolve) => h.app!.server.once('connection', resolve));
    const { port, hostname } = new URL(h.url);
    const socket = net.connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    socket.on('error', () => {});
    socket.write(`POST ${products} HTTP/1.1\r\nHost: herald\r\nAuthorization: ${cred.auth}\r\nContent-Type: application/json\r\nContent-Length: ${TEN_MB}\r\n\r\n`);
    socket.write(PIECE);
    const server = await serverSide;
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    await within(answered, 'the 413');
    const t0 = Date.now();
    await within(new Promise((resolve) => (server.destroyed ? resolve(null) : server.once('close', resolve))), 'Herald to close the connection');
    // After LINGER_IDLE_MS (5 s); the overall deadline (30 s) would be too late.
    assert.ok(Date.now() - t0 < LINGER_MAX_MS / 2, `closed after ${Date.now() - t0} ms of silence`);
    socket.destroy();
  });

  it('an answer given once the body is read keeps the connection open', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const body = '{"name":"Tea"}';
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const { port, hostname } = new URL(h.url);
        const req = http.request({ host: hostname, port, method: 'POST', path: products, agent, headers: { authorization: cred.auth, 'content-type': 'application/json', 'content-length': body.length } }, resolve);
        req.on('error', reject);
        req.end(body);
      });
      res.resume();
      assert.equal(res.statusCode, 400, 'read and validated: no variants');
      assert.equal(res.headers.connection, 'keep-alive');
    } finally {
      agent.destroy();
    }
  });
});
