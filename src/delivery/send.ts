/**
 * The send stage: one signed POST to a destination, classified into a SendResult.
 * One undici Agent keeps a keep-alive pool per destination origin. Its connector
 * resolves names itself and refuses forbidden addresses at connect time, so a
 * destination whose DNS answer changes after the subscription was checked (DNS
 * rebinding) still cannot reach Herald's own network.
 */
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { checkDestinationSyntax, resolveDestination, systemResolve, type Resolve } from '../domain/destinations.js';

/** Why an attempt failed, by stage: resolve, connect, TLS, wait, answer. */
export type SendErrorClass =
  | 'http_status'
  | 'redirect'
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'tls'
  | 'unsafe_destination'
  | 'other';

/** The outcome of one attempt; a 2xx is the only success. */
export type SendResult =
  | { ok: true; status: number; latencyMs: number; excerpt: string }
  | {
      ok: false;
      errorClass: SendErrorClass;
      status?: number;
      message: string;
      latencyMs: number;
      excerpt?: string;
      retryAfter?: string;
    };

/** Sends delivery requests over pooled connections. */
export interface Sender {
  send(url: string, body: string, headers: Record<string, string>): Promise<SendResult>;
  /** Closes the pools, waiting for requests in flight. */
  close(): Promise<void>;
}

/** The first bytes of a response body kept for the attempt log. */
export const EXCERPT_BYTES = 4096;
/** Read (and drop) up to this much of a body so the connection can be reused; beyond it, close it. */
const DRAIN_BYTES = 64 * 1024;
/** Default pool size per origin; the worker bounds concurrency per destination too. */
const DEFAULT_CONNECTIONS_PER_ORIGIN = 32;

/** Thrown by the connect-time lookup; carries the class it should be reported as. */
class LookupRefused extends Error {
  constructor(
    readonly errorClass: 'dns' | 'unsafe_destination',
    message: string,
  ) {
    super(message);
    this.name = 'LookupRefused';
  }
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A net.connect `lookup` that resolves through `resolve` and refuses forbidden addresses. */
function makeSafeLookup(allowInsecure: boolean, resolve: Resolve) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    resolveDestination(hostname, allowInsecure, resolve).then(
      (r) => {
        if (!r.ok) return callback(new LookupRefused(r.errorClass, r.message), '');
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const found = r.addresses
          .map((address) => ({ address, family: isIP(address) }))
          .filter((a) => wanted === 0 || a.family === wanted);
        if (found.length === 0) return callback(new LookupRefused('dns', `${hostname} has no IPv${wanted} address`), '');
        if (options.all) return callback(null, found);
        callback(null, found[0]!.address, found[0]!.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EADDRNOTAVAIL', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Classifies a thrown error by the first cause in its chain that says what went wrong. */
function classify(err: unknown): { errorClass: SendErrorClass; message: string } {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof LookupRefused) return { errorClass: e.errorClass, message: e.message };
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const message = e.message || code;
    if (DNS_CODES.has(code)) return { errorClass: 'dns', message };
    if (TIMEOUT_CODES.has(code)) return { errorClass: 'timeout', message };
    if (TLS_CODE.test(code)) return { errorClass: 'tls', message };
    if (CONNECT_CODES.has(code)) return { errorClass: 'connect', message };
    // AggregateError from happy-eyeballs connect attempts: judge by the first.
    if (e instanceof AggregateError && e.errors[0] instanceof Error) return classify(e.errors[0]);
  }
  return { errorClass: 'other', message: err instanceof Error ? err.message : String(err) };
}

/** Reads the first EXCERPT_BYTES of a body, draining the rest (up to DRAIN_BYTES) to keep the socket. */
async function readExcerpt(body: AsyncIterable<Buffer>): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  for await (const chunk of body) {
    if (keptBytes < EXCERPT_BYTES) {
      const part = chunk.subarray(0, EXCERPT_BYTES - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    total += chunk.length;
    // Leaving the loop destroys the body and its connection: cheaper than reading megabytes.
    if (total > DRAIN_BYTES) break;
  }
  return Buffer.concat(kept).toString('utf8');
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Makes a Sender: POST, no redirects, one overall timeout, connect-time address checks. */
export function makeSender(opts: {
  timeoutMs: number;
  allowInsecure: boolean;
  maxConnectionsPerOrigin?: number;
  /** Name resolution; the system resolver unless a test or deployment supplies another. */
  resolve?: Resolve;
}): Sender {
  const agent = new Agent({
    connections: opts.maxConnectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connect: { timeout: opts.timeoutMs, lookup: makeSafeLookup(opts.allowInsecure, opts.resolve ?? systemResolve) },
  });

  async function send(url: string, body: string, headers: Record<string, string>): Promise<SendResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const syntax = checkDestinationSyntax(url, opts.allowInsecure);
    if (!syntax.ok) {
      const errorClass = syntax.unsafe ? 'unsafe_destination' : 'other';
      return { ok: false, errorClass, message: `destination ${syntax.reason}`, latencyMs: latency() };
    }
    const target = syntax.url;
    // One budget for connect, headers and body: a trickling receiver cannot hold a worker slot.
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(new Error(`no complete answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    try {
      const res = await agent.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers,
        body,
        signal: timer.signal,
      });
      const status = res.statusCode;
      const excerpt = await readExcerpt(res.body);
      const latencyMs = latency();
      if (status >= 200 && status < 300) return { ok: true, status, latencyMs, excerpt };
      const retryAfter = header(res.headers['retry-after']);
      if (status >= 300 && status < 400) {
        const location = header(res.headers.location);
        return {
          ok: false,
          errorClass: 'redirect',
          status,
          message: `answered ${status}${location ? ` redirecting to ${location}` : ''}; redirects are not followed`,
          latencyMs,
          excerpt,
        };
      }
      return {
        ok: false,
        errorClass: 'http_status',
        status,
        message: `answered ${status}`,
        latencyMs,
        excerpt,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      };
    } catch (err) {
      if (timer.signal.aborted) {
        return { ok: false, errorClass: 'timeout', message: `timed out after ${opts.timeoutMs} ms`, latencyMs: latency() };
      }
      return { ok: false, ...classify(err), latencyMs: latency() };
    } finally {
      clearTimeout(timeout);
    }
  }

  return {
    send,
    close: () => agent.close(),
  };
}
