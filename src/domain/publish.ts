import { badRequest, type Violation } from '../errors.js';
import { eventType } from './catalog.js';
import type { DomainContext } from './context.js';
import { getOrganization } from './organizations.js';
import { recordEvent } from './outbox.js';

export interface PublishInput {
  eventName: string;
  payload: unknown;
  messageId?: string;
  livemode?: boolean;
}

/** Validates an event's payload against the catalog's schema; returns the violations. */
export type PayloadValidator = (eventName: string, payload: unknown) => Violation[];

/**
 * The publish endpoint's rule, for producers without a business API in Herald
 * (payments, invoices): a known event, a payload the catalog's schema accepts, and an
 * optional messageId that makes publishing idempotent (the same id twice is one message).
 */
export async function publishEvent(
  ctx: DomainContext,
  validatePayload: PayloadValidator,
  organizationUuid: string,
  input: PublishInput,
): Promise<{ messageId: string; duplicate: boolean; deliveries: number }> {
  const type = eventType(input.eventName);
  if (!type) {
    throw badRequest('UNKNOWN_EVENT', `unknown event ${input.eventName}; GET /events lists them`, [
      { propertyName: 'eventName', developerMessage: 'is not an event of the catalog' },
    ]);
  }
  const violations = validatePayload(input.eventName, input.payload);
  if (violations.length > 0) {
    throw badRequest('INVALID_PAYLOAD', `the payload does not match the ${input.eventName} schema`, violations);
  }
  await getOrganization(ctx.db, organizationUuid);
  const r = await ctx.db.transaction((tx) =>
    recordEvent(tx, ctx.clock, {
      organizationUuid,
      eventName: input.eventName,
      payload: input.payload,
      livemode: input.livemode ?? true,
      messageId: input.messageId,
    }),
  );
  return { messageId: r.messageId, duplicate: !r.accepted, deliveries: r.deliveries };
}
