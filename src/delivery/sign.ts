/**
 * The request signatures (docs/signatures.md says what each covers and how a
 * receiver checks it). Every signature is HMAC-SHA256 keyed with the subscription's
 * signingKey taken as UTF-8 bytes, so one key serves all three schemes.
 */
import { createHmac } from 'node:crypto';

const hmac = (signingKey: string, message: string) =>
  createHmac('sha256', Buffer.from(signingKey, 'utf8')).update(message, 'utf8');

/** X-iZettle-Signature: lowercase hex HMAC-SHA256 over `<timestamp>.<payload>` (the body's two fields). */
export function pusherSignature(signingKey: string, timestamp: string, payload: string): string {
  return hmac(signingKey, `${timestamp}.${payload}`).digest('hex');
}

/** The Standard Webhooks secret for a signing key: `whsec_` + base64 of its UTF-8 bytes. */
export function standardWebhooksSecret(signingKey: string): string {
  return `whsec_${Buffer.from(signingKey, 'utf8').toString('base64')}`;
}

/** The three Standard Webhooks headers. */
export interface StandardWebhooksHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Standard Webhooks headers: `v1,<base64 HMAC-SHA256 of "<msgId>.<timestampSeconds>.<body>">`,
 * one space-separated entry per key (the new key first, during a rotation's overlap).
 */
export function standardWebhooksHeaders(input: {
  signingKey: string;
  previousKey?: string | null;
  msgId: string;
  timestampSeconds: number;
  body: string;
}): StandardWebhooksHeaders {
  const ts = String(input.timestampSeconds);
  const sign = (key: string) => `v1,${hmac(key, `${input.msgId}.${ts}.${input.body}`).digest('base64')}`;
  const entries = [sign(input.signingKey), ...(input.previousKey ? [sign(input.previousKey)] : [])];
  return { 'webhook-id': input.msgId, 'webhook-timestamp': ts, 'webhook-signature': entries.join(' ') };
}

/**
 * X-Herald-Signature for Inventory envelopes, in the Stripe form the original's
 * "HMAC-SHA256 over <unix timestamp>.<raw JSON body>" suggests: `t=<unix>,v1=<hex>`.
 */
export function heraldSignature(signingKey: string, timestampSeconds: number, body: string, previousKey?: string | null): string {
  const sign = (key: string) => `v1=${hmac(key, `${timestampSeconds}.${body}`).digest('hex')}`;
  // During a rotation's overlap, one v1 per key (the new key first), as Stripe's header does.
  return [`t=${timestampSeconds}`, sign(signingKey), ...(previousKey ? [sign(previousKey)] : [])].join(',');
}
