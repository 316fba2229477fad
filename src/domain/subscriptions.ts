import { randomInt } from 'node:crypto';
import { badRequest, forbidden, HeraldError, notFound, unprocessable, type Violation } from '../errors.js';
import {
  findLiveSubscription,
  insertSubscription,
  listLiveSubscriptions,
  retireSubscription,
  updateSubscription as updateRow,
  type SubscriptionChanges,
  type SubscriptionRow,
  countLiveSubscriptions,
  lockAndCountLiveSubscriptions,
  rotateStoredSigningKey,
} from '../store/subscriptions.js';
import { isEventName, missingScopes } from './catalog.js';
import type { DomainContext } from './context.js';
import { checkDestinationSyntax, resolveDestination } from './destinations.js';
import { isUuid, isUuidV1 } from './ids.js';
import type { Principal } from './principal.js';
import type { SecretBox } from './sealed-secrets.js';

/**
 * The Pusher API's webhook subscriptions: validation with the spec's status codes and
 * error types, scopes per event, the destination check on create, and storage.
 */

/** A subscription as the Pusher API shows it. */
export interface Subscription {
  uuid: string;
  transportName: string;
  eventNames: string[];
  updated: string;
  destination: string;
  contactEmail: string;
  status: 'ACTIVE' | 'FAILING';
  signingKey: string;
  /** Herald's extension, shown only when true (responses stay the original's otherwise). */
  ordered?: true;
}

/** The API's view of a stored subscription; its signing key is opened (stored sealed). */
export const toSubscription = (r: SubscriptionRow, secrets: SecretBox): Subscription => ({
  uuid: r.uuid,
  transportName: r.transport_name,
  eventNames: r.event_names,
  updated: r.updated_at.toISOString(),
  destination: r.destination,
  contactEmail: r.contact_email,
  status: r.status,
  signingKey: secrets.open(r.signing_key, 'subscription-signing-key'),
  ...(r.ordered ? { ordered: true as const } : {}),
});

/** What the destination check on create found. */
export type ProbeOutcome =
  | { kind: 'ok' }
  | { kind: 'unreachable'; message: string }
  | { kind: 'error_status'; status: number }
  | { kind: 'unsafe'; message: string };

/** Sends the signed TestMessage to a destination (the delivery engine provides it). */
export type DestinationProbe = (target: {
  organizationUuid: string;
  destination: string;
  signingKey: string;
}) => Promise<ProbeOutcome>;

export const TRANSPORT_WEBHOOK = 'WEBHOOK';
/** A `herald listen` session's subscription (domain/listeners.ts): not part of the Pusher API's list. */
export const TRANSPORT_LISTEN = 'LISTEN';
export const CONTACT_EMAIL_MAX = 512;
const SIGNING_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SIGNING_KEY_LENGTH = 64;

/** 64 characters from a cryptographic source (randomInt is unbiased), like the spec's keys. */
export function newSigningKey(): string {
  let key = '';
  for (let i = 0; i < SIGNING_KEY_LENGTH; i++) key += SIGNING_KEY_ALPHABET[randomInt(SIGNING_KEY_ALPHABET.length)];
  return key;
}

// A practical address check: one @, a dot-atom local part of at most 64 characters,
// and a domain of valid labels with a dot. Quoted local parts and IP-literal domains,
// which no mail provider hands out, are refused.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function emailProblem(value: string): string | undefined {
  if (value.length > CONTACT_EMAIL_MAX) return `must be at most ${CONTACT_EMAIL_MAX} characters`;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return 'is not a valid email address';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return 'is not a valid email address';
  const labels = domain.split('.');
  if (labels.length < 2 || domain.length > 253 || !labels.every((l) => DOMAIN_LABEL.test(l))) {
    return 'is not a valid email address';
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'is not a valid email address';
  return undefined;
}

/** The request's fields, from the JSON body or the query string, not yet validated. */
export type SubscriptionInput = Record<string, unknown>;

const isPresent = (v: unknown) => v !== undefined && v !== null;

/**
 * `ordered` (Herald's extension: FIFO delivery) as a boolean, or a violation. A query
 * parameter arrives as the text "true" or "false".
 */
function readOrdered(value: unknown): { ordered?: boolean; violation?: Violation } {
  if (value === true || value === 'true') return { ordered: true };
  if (value === false || value === 'false') return { ordered: false };
  return { violation: { propertyName: 'ordered', developerMessage: 'must be true or false' } };
}

/** eventNames as a list of strings, or a violation. A single string (query ?eventNames=A) is a list of one. */
export function readEventNames(raw: unknown): { names?: string[]; violation?: Violation } {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) {
    return { violation: { propertyName: 'eventNames', developerMessage: 'must be an array of event names' } };
  }
  const unknown = list.filter((n) => !isEventName(n));
  if (unknown.length > 0) {
    return {
      violation: {
        propertyName: 'eventNames',
        developerMessage: `unknown event name${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      },
    };
  }
  return { names: [...new Set(list)] };
}

function destinationProblem(raw: unknown, allowInsecure: boolean): string | undefined {
  if (typeof raw !== 'string') return 'must be a string';
  if (raw.trim() === '') return 'must not be empty';
  const r = checkDestinationSyntax(raw, allowInsecure);
  return r.ok ? undefined : r.reason;
}

/**
 * Where an update's destination resolves, judged by the rule the sender applies when it
 * connects (and create applies through its TestMessage): a name that resolves to a
 * loopback, private or otherwise non-public address is refused (422), so it is never
 * stored. A name that does not resolve now is accepted: an update sends no test message,
 * and deliveries retry.
 */
async function destinationAddressProblem(destination: string, allowInsecure: boolean): Promise<string | undefined> {
  if (allowInsecure) return undefined;
  const syntax = checkDestinationSyntax(destination, allowInsecure);
  if (!syntax.ok) return syntax.reason;
  const r = await resolveDestination(syntax.url.hostname, allowInsecure);
  return !r.ok && r.errorClass === 'unsafe_destination' ? r.message : undefined;
}

export function requireEventScopes(principal: Principal, eventNames: string[]): void {
  const missing = missingScopes(principal.scopes, eventNames);
  if (missing.length > 0) {
    const what = eventNames.length === 0 ? 'every event (empty eventNames)' : eventNames.join(', ');
    throw forbidden('INSUFFICIENT_SCOPE', `subscribing to ${what} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
}

const UNIQUE_VIOLATION = '23505';
export const limitReached = (limit: number) =>
  badRequest(
    'SUBSCRIPTION_LIMIT_REACHED',
    `the organization has ${limit} subscriptions, the most it may have (HERALD_MAX_SUBSCRIPTIONS_PER_ORGANIZATION); delete one first`,
    [{ propertyName: 'uuid', developerMessage: `would exceed the limit of ${limit} subscriptions` }],
  );
const alreadyExists = (uuid: string) =>
  badRequest('SUBSCRIPTION_ALREADY_EXIST', `a subscription with uuid ${uuid} already exists`, [
    { propertyName: 'uuid', developerMessage: 'already exists' },
  ]);

/**
 * Creates a subscription, as the spec's table orders it: 400 for uuid, transportName
 * and event names; 422 for destination and contactEmail; 403 for scopes; 400 when the
 * uuid exists; then the TestMessage: 400 DESTINATION_NOT_ACCESSIBLE when unreachable,
 * 500 DESTINATION_RESPONDED_WITH_ERROR_CODE on a non-2xx. Nothing is stored unless all pass.
 */
export async function createSubscription(
  ctx: DomainContext,
  probe: DestinationProbe,
  principal: Principal,
  organizationUuid: string,
  input: SubscriptionInput,
): Promise<Subscription> {
  const bad: Violation[] = [];
  const { uuid, transportName, destination, contactEmail } = input;
  if (!isPresent(uuid)) bad.push({ propertyName: 'uuid', developerMessage: 'is required' });
  else if (typeof uuid !== 'string' || !isUuidV1(uuid)) bad.push({ propertyName: 'uuid', developerMessage: 'must be a version-1 UUID' });
  if (!isPresent(transportName)) bad.push({ propertyName: 'transportName', developerMessage: 'is required' });
  else if (transportName !== TRANSPORT_WEBHOOK) bad.push({ propertyName: 'transportName', developerMessage: 'must be WEBHOOK' });
  let eventNames: string[] = [];
  if (!isPresent(input.eventNames)) bad.push({ propertyName: 'eventNames', developerMessage: 'is required (an empty array subscribes to every event)' });
  else {
    const r = readEventNames(input.eventNames);
    if (r.violation) bad.push(r.violation);
    else eventNames = r.names!;
  }
  let ordered = false;
  if (isPresent(input.ordered)) {
    const r = readOrdered(input.ordered);
    if (r.violation) bad.push(r.violation);
    else ordered = r.ordered!;
  }
  if (bad.length > 0) throw badRequest('VALIDATION_ERROR', describe(bad), bad);

  const unfit: Violation[] = [];
  if (!isPresent(destination)) unfit.push({ propertyName: 'destination', developerMessage: 'is required' });
  else {
    const p = destinationProblem(destination, ctx.config.allowInsecureDestinations);
    if (p) unfit.push({ propertyName: 'destination', developerMessage: p });
  }
  if (!isPresent(contactEmail)) unfit.push({ propertyName: 'contactEmail', developerMessage: 'is required' });
  else {
    const p = typeof contactEmail === 'string' ? emailProblem(contactEmail) : 'must be a string';
    if (p) unfit.push({ propertyName: 'contactEmail', developerMessage: p });
  }
  if (unfit.length > 0) throw unprocessable('VALIDATION_ERROR', describe(unfit), unfit);

  requireEventScopes(principal, eventNames);

  const subUuid = (uuid as string).toLowerCase();
  if (await findLiveSubscription(ctx.db, organizationUuid, subUuid)) throw alreadyExists(subUuid);
  // Checked again under a lock when the row is written; here, before the TestMessage.
  if ((await countLiveSubscriptions(ctx.db, organizationUuid)) >= ctx.config.maxSubscriptionsPerOrganization) {
    throw limitReached(ctx.config.maxSubscriptionsPerOrganization);
  }

  const signingKey = newSigningKey();
  const outcome = await probe({ organizationUuid, destination: destination as string, signingKey });
  switch (outcome.kind) {
    case 'ok':
      break;
    case 'unreachable':
      throw badRequest('DESTINATION_NOT_ACCESSIBLE', `the destination is not accessible: ${outcome.message}`, [
        { propertyName: 'destination', developerMessage: outcome.message },
      ]);
    case 'unsafe':
      throw unprocessable('VALIDATION_ERROR', `destination: ${outcome.message}`, [
        { propertyName: 'destination', developerMessage: outcome.message },
      ]);
    case 'error_status':
      throw new HeraldError(
        'destination_error',
        'DESTINATION_RESPONDED_WITH_ERROR_CODE',
        `the destination answered the test message with HTTP ${outcome.status}; it must answer 2xx`,
        [{ propertyName: 'destination', developerMessage: `answered HTTP ${outcome.status}` }],
      );
  }

  const limit = ctx.config.maxSubscriptionsPerOrganization;
  try {
    const row = await ctx.db.transaction(async (tx) => {
      if ((await lockAndCountLiveSubscriptions(tx, organizationUuid)) >= limit) throw limitReached(limit);
      return insertSubscription(tx, {
      uuid: subUuid,
      organization_uuid: organizationUuid,
      transport_name: TRANSPORT_WEBHOOK,
      event_names: eventNames,
      destination: destination as string,
      contact_email: contactEmail as string,
      signing_key: ctx.secrets.seal(signingKey, 'subscription-signing-key'),
      ordered,
      created_by: principal.credentialRef,
      livemode: principal.livemode,
      created_at: ctx.clock.now(),
      });
    });
    return toSubscription(row, ctx.secrets);
  } catch (err) {
    // Two creates with one uuid at once: the unique index decides, the loser gets 400.
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw alreadyExists(subUuid);
    throw err;
  }
}

/** The organization's subscriptions in the credential's mode: a test-mode key sees the test-mode ones. */
export async function listSubscriptions(ctx: DomainContext, principal: Principal, organizationUuid: string): Promise<Subscription[]> {
  // Listeners (herald listen) are managed through their own routes; the original's clients see webhooks only.
  return (await listLiveSubscriptions(ctx.db, organizationUuid, principal.livemode))
    .filter((r) => r.transport_name === TRANSPORT_WEBHOOK)
    .map((r) => toSubscription(r, ctx.secrets));
}

/**
 * The subscription a credential may change or delete: one of its organization, in its
 * mode, whose events' scopes it holds (else it could redirect, say, PaymentCreated
 * messages with a READ:PRODUCT key). 404 when there is none; 403 for missing scopes.
 */
async function manageable(ctx: DomainContext, principal: Principal, organizationUuid: string, subscriptionUuid: string): Promise<SubscriptionRow> {
  const uuid = subscriptionUuid.toLowerCase();
  const row = isUuid(uuid) ? await findLiveSubscription(ctx.db, organizationUuid, uuid) : undefined;
  if (!row || row.livemode !== principal.livemode || row.transport_name !== TRANSPORT_WEBHOOK) throw subscriptionNotFound(subscriptionUuid);
  requireEventScopes(principal, row.event_names);
  return row;
}

const subscriptionNotFound = (uuid: string) =>
  notFound('SUBSCRIPTION_NOT_FOUND', `no subscription ${uuid} in this organization`);

/**
 * Updates a subscription; every field is optional. 400 for unknown event names (or a
 * transportName other than WEBHOOK), 422 for an empty or invalid destination (the same
 * rules as create: syntax, and where its name resolves) or an invalid contactEmail, 403 for events whose scope is missing, 404 when not found.
 * The signing key never changes.
 */
export async function updateSubscription(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  subscriptionUuid: string,
  input: SubscriptionInput,
): Promise<void> {
  const changes: SubscriptionChanges = {};
  const bad: Violation[] = [];
  if (isPresent(input.transportName)) {
    if (input.transportName !== TRANSPORT_WEBHOOK) bad.push({ propertyName: 'transportName', developerMessage: 'must be WEBHOOK' });
    else changes.transport_name = TRANSPORT_WEBHOOK;
  }
  if (isPresent(input.eventNames)) {
    const r = readEventNames(input.eventNames);
    if (r.violation) bad.push(r.violation);
    else changes.event_names = r.names!;
  }
  if (isPresent(input.ordered)) {
    const r = readOrdered(input.ordered);
    if (r.violation) bad.push(r.violation);
    else changes.ordered = r.ordered!;
  }
  if (bad.length > 0) throw badRequest('VALIDATION_ERROR', describe(bad), bad);

  const unfit: Violation[] = [];
  if (input.destination !== undefined) {
    const allowInsecure = ctx.config.allowInsecureDestinations;
    const p =
      input.destination === null
        ? 'must not be empty'
        : (destinationProblem(input.destination, allowInsecure) ?? (await destinationAddressProblem(input.destination as string, allowInsecure)));
    if (p) unfit.push({ propertyName: 'destination', developerMessage: p });
    else changes.destination = input.destination as string;
  }
  if (isPresent(input.contactEmail)) {
    const p = typeof input.contactEmail === 'string' ? emailProblem(input.contactEmail) : 'must be a string';
    if (p) unfit.push({ propertyName: 'contactEmail', developerMessage: p });
    else changes.contact_email = input.contactEmail as string;
  }
  if (unfit.length > 0) throw unprocessable('VALIDATION_ERROR', describe(unfit), unfit);

  const row = await manageable(ctx, principal, organizationUuid, subscriptionUuid);
  if (changes.event_names) requireEventScopes(principal, changes.event_names);
  if (!(await updateRow(ctx.db, organizationUuid, row.uuid, changes, ctx.clock.now()))) throw subscriptionNotFound(subscriptionUuid);
}

/** Deletes a subscription (204), or 404 SUBSCRIPTION_NOT_FOUND. Its pending deliveries are cancelled. */
export async function deleteSubscription(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  subscriptionUuid: string,
): Promise<void> {
  const row = await manageable(ctx, principal, organizationUuid, subscriptionUuid);
  const { deleted } = await retireSubscription(ctx.db, row.id, ctx.clock.now(), 'deleted through the API');
  if (!deleted) throw subscriptionNotFound(subscriptionUuid);
}

/** How long a rotated-out key stays valid beside the new one, by default and at most (seconds). */
export const DEFAULT_KEY_OVERLAP_SECONDS = 24 * 3600;
export const MAX_KEY_OVERLAP_SECONDS = 7 * 24 * 3600;

export interface RotatedKey {
  /** The new signing key (also what GET .../subscriptions shows from now on). */
  signingKey: string;
  /** Until when deliveries are also signed with the previous key (ISO 8601). */
  previousSigningKeyValidUntil: string;
}

/**
 * Herald's extension: gives a subscription a new signing key, keeping the current one
 * valid beside it for `overlapSeconds` (default a day, at most a week; 0 ends it at
 * once). Meanwhile deliveries carry both (docs/signatures.md "Key rotation"). 400 for an
 * overlap that is not a whole number of seconds in range; 404 and 403 as for an update.
 */
export async function rotateSigningKey(
  ctx: DomainContext,
  principal: Principal,
  organizationUuid: string,
  subscriptionUuid: string,
  input: { overlapSeconds?: unknown },
): Promise<RotatedKey> {
  const overlap = input.overlapSeconds ?? DEFAULT_KEY_OVERLAP_SECONDS;
  if (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0 || overlap > MAX_KEY_OVERLAP_SECONDS) {
    const v = { propertyName: 'overlapSeconds', developerMessage: `must be a whole number of seconds from 0 to ${MAX_KEY_OVERLAP_SECONDS}` };
    throw badRequest('VALIDATION_ERROR', describe([v]), [v]);
  }
  const row = await manageable(ctx, principal, organizationUuid, subscriptionUuid);
  const signingKey = newSigningKey();
  const now = ctx.clock.now();
  const until = new Date(now.getTime() + overlap * 1000);
  if (!(await rotateStoredSigningKey(ctx.db, row.id, ctx.secrets.seal(signingKey, 'subscription-signing-key'), until, now))) {
    throw subscriptionNotFound(subscriptionUuid);
  }
  return { signingKey, previousSigningKeyValidUntil: until.toISOString() };
}

function describe(violations: Violation[]): string {
  return violations.map((v) => `${v.propertyName} ${v.developerMessage}`).join('; ');
}
