/**
 * Verifying a delivery from Herald: its raw body and headers, against the subscription's
 * signing key (or several, during a rotation). WebCrypto only (`crypto.subtle`), so it
 * runs on Node >= 20, Deno, Bun, Cloudflare Workers and browsers alike.
 *
 * The three signatures Herald sends (docs/signatures.md in Herald's repository), all
 * HMAC-SHA256 keyed with the signing key's UTF-8 bytes:
 *
 * - `standard-webhooks`, on every request: `webhook-signature: v1,<base64>` over
 *   `<webhook-id>.<webhook-timestamp>.<raw body>`; `webhook-timestamp` is the time of
 *   sending, checked against the tolerance.
 * - `herald`, on Inventory (payment terminal) envelopes: `X-Herald-Signature:
 *   t=<unix>,v1=<hex>` over `<t>.<raw body>`; `t` checked against the tolerance.
 * - `izettle`, on Pusher envelopes, as the original Zettle service: `X-iZettle-Signature:
 *   <hex>` over `<body.timestamp>.<body.payload>`. It covers two fields of the body, and
 *   the body's timestamp is when the event was accepted (a retry hours later keeps it),
 *   so it carries no freshness: no tolerance applies, and the body's other fields
 *   (eventName, messageId...) are not covered. Checked only when asked for
 *   (`scheme: 'izettle'`), never chosen by `auto`: a request stripped of its other
 *   signatures must not pass on this one.
 *
 * Comparisons are WebCrypto's `verify`, constant time.
 */
import { decodeEnvelope, jsonObject as bodyFields, type Delivery } from './envelope.js';

export type Scheme = 'standard-webhooks' | 'herald' | 'izettle';

/** Why a delivery was refused. */
export type RefusalReason =
  /** None of the signature headers the scheme needs is there. */
  | 'no_signature'
  /** A signature or timestamp header that cannot be read. */
  | 'malformed_header'
  /** No key (of those given) made the signature. */
  | 'signature_mismatch'
  /** The signed timestamp is older than the tolerance. */
  | 'timestamp_too_old'
  /** The signed timestamp is further ahead than the tolerance. */
  | 'timestamp_in_future'
  /** The body is not the JSON of an envelope Herald sends. */
  | 'malformed_body'
  /** No signing key was given. */
  | 'no_key';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly scheme?: Scheme,
  ) {
    super(message);
  }
}

/** Headers as fetch has them, or as node:http does (names in any case; arrays joined). */
export type HeadersInput = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /**
   * The subscription's signingKey, as Herald returns it. Several during a key rotation:
   * a delivery signed by any of them passes. A Standard Webhooks secret (`whsec_...`)
   * is taken too.
   */
  keys: string | readonly string[];
  /**
   * Which signature to check. Default `auto`: Standard Webhooks when present, else
   * X-Herald-Signature. `izettle` only when asked for: it covers two body fields and no
   * time of sending (for receivers ported from Zettle's service).
   */
  scheme?: Scheme | 'auto';
  /** How far a signed timestamp may be from now, in seconds (default 300, as Standard Webhooks and Stripe). */
  toleranceSeconds?: number;
  /** The current time (tests, replays of recorded deliveries). */
  now?: Date;
}

/** What a verified delivery is: the scheme that verified it, its stable id, and the decoded envelope. */
export type Verified = Delivery & {
  scheme: Scheme;
  /** Stable across retries (`webhook-id`: the Pusher messageId, the Inventory id): drop duplicates by it. */
  webhookId: string;
};

const DEFAULT_TOLERANCE_SECONDS = 300;
/** Bytes on an ArrayBuffer, as WebCrypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;
const utf8 = new TextEncoder();

function headerMap(headers: HeadersInput): Map<string, string> {
  const map = new Map<string, string>();
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((v, k) => map.set(k.toLowerCase(), v));
    return map;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) map.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v);
  }
  return map;
}

function keyBytes(key: string): Bytes {
  const bytes = key.startsWith('whsec_') ? (base64Bytes(key.slice('whsec_'.length)) ?? utf8.encode(key)) : utf8.encode(key);
  if (bytes.length === 0) throw new WebhookVerificationError('no_key', 'an empty signing key was given');
  return bytes;
}

/** Signature entries looked at, at most (Herald sends two during a key rotation). */
const MAX_SIGNATURES = 10;

function base64Bytes(s: string): Bytes | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hexBytes(s: string): Bytes | undefined {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function concat(...parts: (string | Uint8Array)[]): Bytes {
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Compares two byte strings in time that depends only on their length. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * True when any key's HMAC-SHA256 of `message` is any of `signatures`: one MAC per key
 * (not per key and entry: many entries must not multiply the hashing of a large body),
 * compared in constant time.
 */
async function anyKeySigned(keys: readonly string[], message: Bytes, signatures: Bytes[]): Promise<boolean> {
  const candidates = signatures.slice(0, MAX_SIGNATURES);
  let found = false;
  for (const key of keys) {
    const k = await crypto.subtle.importKey('raw', keyBytes(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, message));
    for (const sig of candidates) if (equalBytes(mac, sig)) found = true;
  }
  return found;
}

function checkTime(scheme: Scheme, seconds: number, now: Date, tolerance: number): void {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (seconds < nowSeconds - tolerance) {
    throw new WebhookVerificationError('timestamp_too_old', `the signed timestamp (${seconds}) is more than ${tolerance} s old`, scheme);
  }
  if (seconds > nowSeconds + tolerance) {
    throw new WebhookVerificationError('timestamp_in_future', `the signed timestamp (${seconds}) is more than ${tolerance} s ahead`, scheme);
  }
}

function unixSeconds(scheme: Scheme, value: string): number {
  if (!/^\d{1,12}$/.test(value)) throw new WebhookVerificationError('malformed_header', `the timestamp ${JSON.stringify(value.slice(0, 40))} is not Unix seconds`, scheme);
  return Number(value);
}

/**
 * Verifies a delivery and decodes it. Pass the body exactly as received (a string or
 * its bytes), before any JSON parsing. Throws WebhookVerificationError saying why when
 * it does not verify.
 */
export async function verifyDelivery(rawBody: string | Uint8Array, headers: HeadersInput, options: VerifyOptions): Promise<Verified> {
  const keys = typeof options.keys === 'string' ? [options.keys] : [...options.keys];
  if (keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) throw new WebhookVerificationError('no_key', 'no signing key was given');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? new Date();
  const h = headerMap(headers);
  const body = typeof rawBody === 'string' ? utf8.encode(rawBody) : rawBody;

  let scheme = options.scheme ?? 'auto';
  if (scheme === 'auto') {
    if (h.has('webhook-signature')) scheme = 'standard-webhooks';
    else if (h.has('x-herald-signature')) scheme = 'herald';
    else {
      throw new WebhookVerificationError(
        'no_signature',
        "the request carries neither webhook-signature nor X-Herald-Signature (X-iZettle-Signature alone is checked only with scheme: 'izettle')",
      );
    }
  }

  let webhookId: string | undefined;
  if (scheme === 'standard-webhooks') {
    const id = h.get('webhook-id');
    const ts = h.get('webhook-timestamp');
    const sig = h.get('webhook-signature');
    if (id === undefined || ts === undefined || sig === undefined) {
      throw new WebhookVerificationError('no_signature', 'webhook-id, webhook-timestamp and webhook-signature are all needed', scheme);
    }
    const seconds = unixSeconds(scheme, ts);
    // Space-separated `v1,<base64>` entries (two during a key rotation); others ignored.
    const signatures = sig
      .split(' ')
      .filter((e) => e.startsWith('v1,'))
      .map((e) => base64Bytes(e.slice(3)))
      .filter((b): b is Bytes => b !== undefined);
    if (signatures.length === 0) throw new WebhookVerificationError('malformed_header', 'webhook-signature has no v1 signature', scheme);
    if (!(await anyKeySigned(keys, concat(`${id}.${ts}.`, body), signatures))) {
      throw new WebhookVerificationError('signature_mismatch', 'webhook-signature was not made by the signing key over this body', scheme);
    }
    checkTime(scheme, seconds, now, tolerance);
    webhookId = id;
  } else if (scheme === 'herald') {
    const header = h.get('x-herald-signature');
    if (header === undefined) throw new WebhookVerificationError('no_signature', 'no X-Herald-Signature', scheme);
    const parts = header.split(',').map((p) => p.trim().split('='));
    const t = parts.find(([k]) => k === 't')?.[1];
    const signatures = parts
      .filter(([k]) => k === 'v1')
      .map(([, v]) => hexBytes(v ?? ''))
      .filter((b): b is Bytes => b !== undefined);
    if (t === undefined || signatures.length === 0) throw new WebhookVerificationError('malformed_header', 'X-Herald-Signature must read t=<unix>,v1=<hex>', scheme);
    const seconds = unixSeconds(scheme, t);
    if (!(await anyKeySigned(keys, concat(`${t}.`, body), signatures))) {
      throw new WebhookVerificationError('signature_mismatch', 'X-Herald-Signature was not made by the signing key over this body', scheme);
    }
    checkTime(scheme, seconds, now, tolerance);
  } else {
    const header = h.get('x-izettle-signature');
    if (header === undefined) throw new WebhookVerificationError('no_signature', 'no X-iZettle-Signature', scheme);
    const signatures = header
      .split(/[ ,]+/)
      .map((s) => hexBytes(s))
      .filter((b): b is Bytes => b !== undefined);
    if (signatures.length === 0) throw new WebhookVerificationError('malformed_header', 'X-iZettle-Signature must be lowercase hex', scheme);
    const fields = bodyFields(body);
    if (typeof fields?.timestamp !== 'string' || typeof fields.payload !== 'string') {
      throw new WebhookVerificationError('malformed_body', 'X-iZettle-Signature covers the body fields timestamp and payload, which are missing', scheme);
    }
    if (!(await anyKeySigned(keys, utf8.encode(`${fields.timestamp}.${fields.payload}`), signatures))) {
      throw new WebhookVerificationError('signature_mismatch', 'X-iZettle-Signature was not made by the signing key over this body', scheme);
    }
  }

  const delivery = decodeEnvelope(body);
  if (!delivery) throw new WebhookVerificationError('malformed_body', 'the body is not a Pusher or Inventory envelope', scheme);
  webhookId ??= delivery.envelope === 'pusher' ? delivery.messageId : delivery.id;
  return { ...delivery, scheme, webhookId };
}

