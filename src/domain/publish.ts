import { badRequest, type Violation } from '../errors.js';
import { eventType } from './catalog.js';
import type { Tx } from '../store/db.js';
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
): Promise<Published> {
  const problem = checkEvent(validatePayload, input);
  if (problem) throw badRequest(problem.errorType, problem.message, problem.violations);
  await getOrganization(ctx.db, organizationUuid);
  return ctx.db.transaction((tx) => record(tx, ctx, organizationUuid, input));
}

/** What a publish answers for one event. */
export interface Published {
  messageId: string;
  duplicate: boolean;
  deliveries: number;
}

/** Records one checked event in the caller's transaction. */
async function record(tx: Tx, ctx: DomainContext, organizationUuid: string, input: PublishInput): Promise<Published> {
  const r = await recordEvent(tx, ctx.clock, {
    organizationUuid,
    eventName: input.eventName,
    payload: input.payload,
    livemode: input.livemode ?? true,
    messageId: input.messageId,
  });
  return { messageId: r.messageId, duplicate: !r.accepted, deliveries: r.deliveries };
}

/** What is wrong with an event to publish, if anything: an unknown name, or a payload its schema refuses. */
function checkEvent(
  validatePayload: PayloadValidator,
  input: PublishInput,
  prefix = '',
): { errorType: 'UNKNOWN_EVENT' | 'INVALID_PAYLOAD'; message: string; violations: Violation[] } | undefined {
  if (!eventType(input.eventName)) {
    return {
      errorType: 'UNKNOWN_EVENT',
      message: `unknown event ${input.eventName}; GET /events lists them`,
      violations: [{ propertyName: `${prefix}eventName`, developerMessage: 'is not an event of the catalog' }],
    };
  }
  const violations = validatePayload(input.eventName, input.payload);
  if (violations.length === 0) return undefined;
  return {
    errorType: 'INVALID_PAYLOAD',
    message: `the payload does not match the ${input.eventName} schema`,
    violations: violations.map((v) => ({ ...v, propertyName: `${prefix}${v.propertyName}` })),
  };
}

/** Events one batch publish may carry. */
export const MAX_BATCH_EVENTS = 500;

/**
 * Publishes several events at once, all or none: every event is checked first (400 naming
 * the first bad one as `events[i]....`, nothing stored), then all are recorded in one
 * transaction, so one request and one commit carry them all. Idempotency per event is
 * the single publish's: an event whose messageId was already published is a duplicate.
 */
export async function publishEvents(
  ctx: DomainContext,
  validatePayload: PayloadValidator,
  organizationUuid: string,
  inputs: PublishInput[],
): Promise<Published[]> {
  for (const [i, input] of inputs.entries()) {
    const problem = checkEvent(validatePayload, input, `events[${i}].`);
    if (problem) throw badRequest(problem.errorType, `events[${i}]: ${problem.message}`, problem.violations);
  }
  await getOrganization(ctx.db, organizationUuid);
  // Recorded in the order of their producer ids, answered in the request's: two batches
  // naming the same ids in different orders take their unique-index locks in one order
  // and so cannot deadlock each other on PostgreSQL.
  const order = inputs.map((_, i) => i).sort((a, b) => byProducerId(inputs[a]!, inputs[b]!));
  return ctx.db.transaction(async (tx) => {
    const out: Published[] = new Array(inputs.length);
    for (const i of order) out[i] = await record(tx, ctx, organizationUuid, inputs[i]!);
    return out;
  });
}

const byProducerId = (a: PublishInput, b: PublishInput): number => {
  const x = a.messageId ?? '';
  const y = b.messageId ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
};
