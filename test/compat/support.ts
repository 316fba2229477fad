// Shared pieces of the client-compatibility suites (test/compat/*.test.ts): a Herald
// with API and worker, an HTTP client that sends exactly the bytes a given client
// sends (header spelling and order, bodies on GET and DELETE, unencoded forms), and
// re-implementations, from written descriptions, of the few language primitives the
// clients' verifiers depend on (PHP stripslashes and base64_decode, JWT segment
// decoding). Nothing here is taken from the clients' code.
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Scope } from '../../src/domain/scopes.js';
import type { TestDatabase } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import type { ReceivedRequest } from '../helpers/receiver.js';

/** A Herald with API and worker on a fresh database; settle() lets the worker send everything due. */
export interface CompatHerald extends TestHerald {
  settle(): Promise<void>;
}

export async function startCompatHerald(backend: TestDatabase): Promise<CompatHerald> {
  const h = await startTestHerald(backend, {
    roles: { api: true, worker: true },
    config: { deliveryTimeoutMs: 2000, leaseSeconds: 10 },
  });
  return {
    ...h,
    async settle() {
      h.worker!.wake();
      await h.worker!.idle();
    },
  };
}

/** A new organization with one API key holding `scopes`, made through the admin API. */
export function newMerchant(h: TestHerald, scopes: Scope[], organizationUuid?: string): Promise<TestCredential> {
  return createCredential(h, scopes, organizationUuid ? { organizationUuid } : {});
}

/** Revokes an API key through the admin API (DELETE /admin/organizations/{org}/api-keys/{id}). */
export async function deleteApiKey(h: TestHerald, cred: TestCredential): Promise<void> {
  const r = await h.admin(`/admin/organizations/${cred.organizationUuid}/api-keys/${cred.apiKeyId}`, { method: 'DELETE' });
  if (r.status !== 204) throw new Error(`deleting API key: ${r.status} ${await r.text()}`);
}

export interface WireResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text ('' when there is none). */
  text: string;
}

/**
 * One HTTP/1.1 request with exactly these headers, in this order and spelling, and this
 * body, whatever the method (GET and DELETE bodies included, which fetch refuses).
 * Content-Length is added when there is a body and the caller did not set it.
 */
export function wire(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<WireResponse> {
  const url = new URL(path, base);
  const all: Record<string, string> = { ...headers };
  if (body !== undefined && !Object.keys(all).some((k) => k.toLowerCase() === 'content-length')) {
    all['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Lowercase hex HMAC-SHA256, keyed with the UTF-8 bytes of `key`. */
export const hmacHex = (key: string, message: string): string =>
  createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');

/**
 * PHP's stripslashes(): every backslash is removed and the character after it kept
 * ("\\\\" becomes "\\"), except that "\\0" becomes a NUL byte; a lone trailing
 * backslash disappears.
 */
export function phpStripslashes(s: string): string {
  return s.replace(/\\([\s\S]?)/g, (_, c: string) => (c === '0' ? '\0' : c));
}

/**
 * PHP's base64_decode() in its default, non-strict mode: characters outside the
 * standard alphabet (A-Z a-z 0-9 + /), such as base64url's "-" and "_", are skipped,
 * "=" is ignored, and a final group too short to make a byte is dropped.
 */
export function phpBase64DecodeLoose(s: string): Buffer {
  let kept = s.replace(/[^A-Za-z0-9+/]/g, '');
  if (kept.length % 4 === 1) kept = kept.slice(0, -1);
  return Buffer.from(kept, 'base64');
}

/** Strict base64url decoding of one JWT segment (padding put back); throws on a character outside the alphabet. */
export function base64UrlDecodeStrict(segment: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) throw new Error(`not base64url: ${segment.slice(0, 20)}`);
  const std = segment.replace(/-/g, '+').replace(/_/g, '/');
  return Buffer.from(std + '='.repeat((4 - (std.length % 4)) % 4), 'base64');
}

/** PHP json_decode($s, true): the value, or null for anything that is not JSON. */
export function phpJsonDecode(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/** PHP's is_array() after json_decode(..., true): a JSON object or array. */
export const isPhpArray = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The header value a case-insensitive lookup finds (node lower-cases names). */
export const headerCI = (r: ReceivedRequest, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/** The header value an exact, case-sensitive lookup of the raw header names finds. */
export function headerExact(r: ReceivedRequest, name: string): string | undefined {
  for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i] === name) return r.rawHeaders[i + 1];
  return undefined;
}

/** The event name of a Pusher envelope, or undefined. */
export const eventNameOf = (r: ReceivedRequest): string | undefined => {
  const b = r.json as { eventName?: unknown } | undefined;
  return typeof b?.eventName === 'string' ? b.eventName : undefined;
};

/** A UUID in 8-4-4-4-12 form, any version (what most clients' validators accept). */
export const WELL_FORMED_UUID = /^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i;

/** A product body for Herald's product API, with texts a PHP or .NET receiver may meet. */
export function productBody(name: string, variants: { name: string; amount: number }[] = [{ name: 'Large', amount: 8300 }]) {
  return {
    name,
    description: 'Grown & roasted in Småland',
    presentation: { imageUrl: 'https://image.example.com/products/l/coffee.jpg', backgroundColor: '#804619', textColor: '#408384' },
    categories: ['Coffee'],
    variants: variants.map((v, i) => ({ name: v.name, sku: `SKU-${i + 1}`, price: { amount: v.amount, currencyId: 'SEK' } })),
    externalReference: 'REF-1',
    vatPercentage: 25,
  };
}
