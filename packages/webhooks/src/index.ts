// herald-webhooks: verify and decode the webhooks Herald sends.
export { verifyDelivery, WebhookVerificationError } from './verify.js';
export type { HeadersInput, RefusalReason, Scheme, Verified, VerifyOptions } from './verify.js';
export { decodeEnvelope } from './envelope.js';
export type { Delivery, InventoryDelivery, InventoryEventName, PusherDelivery, PusherEventName } from './envelope.js';
export type * from './events.js';
export { DEFAULT_MAX_BODY_BYTES, expressVerifier, fastifyWebhooks, readBody, refusal, verifyNodeRequest, verifyRequest } from './adapters.js';
export type { BodyOptions, NodeRequestLike } from './adapters.js';
