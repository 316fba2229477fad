/**
 * Signing a delivery request with a subscription's keys. The envelopes and the header
 * layout are the domain's (domain/delivery-request.ts), so the attempt log rebuilds the
 * request with the same code; here the signatures are computed (sign.ts).
 */
import { requestHeaders, type Envelope, type RequestSigner } from '../domain/delivery-request.js';
import { heraldSignature, pusherSignature, standardWebhooksHeaders } from './sign.js';

/**
 * Signs with the subscription's key, and during a key rotation's overlap with the
 * previous one too: the Standard Webhooks and Herald headers carry one signature per key
 * (the new key first); X-iZettle-Signature carries one only (the original's receivers
 * compare the whole header): the previous key's, so they keep working until the overlap ends.
 */
export function keySigner(signingKey: string, previousKey?: string | null): RequestSigner {
  return {
    webhookSignature: (msgId, timestampSeconds, body) =>
      standardWebhooksHeaders({ signingKey, previousKey, msgId, timestampSeconds, body })['webhook-signature'],
    pusherSignature: (timestamp, payload) => pusherSignature(previousKey ?? signingKey, timestamp, payload),
    heraldSignature: (timestampSeconds, body) => heraldSignature(signingKey, timestampSeconds, body, previousKey),
  };
}

/**
 * Every header of a delivery request, signed (domain/delivery-request.ts requestHeaders:
 * content type, user agent, the Standard Webhooks headers with timestamp `now`, and
 * X-iZettle-Signature or X-Herald-Signature). Call it per attempt, so the timestamps are
 * the time of sending.
 */
export function signRequest(envelope: Envelope, signingKey: string, now: Date, previousKey?: string | null): Record<string, string> {
  return requestHeaders(envelope, now, keySigner(signingKey, previousKey));
}
