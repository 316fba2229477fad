import type { DomainContext } from '../domain/context.js';
import { formatSpecTimestamp } from '../domain/formats.js';
import { recordEvent } from '../domain/outbox.js';
import { notFound } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { lockOrganization, updateOrganizationDetails } from '../store/organization-details.js';
import { findOrganization, type OrganizationRow } from '../store/organizations.js';
import type { Actor } from './actor.js';
import { rejectNulCharacters } from './input.js';

/**
 * The details of an organization a client may read and change. The spec documents no
 * OrganizationUpdated payload; Herald's is `{organizationUuid, newEntity, oldEntity}`
 * with entities of this shape, like ProductUpdated. Every field is always present
 * ("" when not set), so receivers can rely on the types.
 */
export const DETAIL_FIELDS = [
  'legalName',
  'contactEmail',
  'phoneNumber',
  'address',
  'addressLine2',
  'zipCode',
  'city',
  'country',
  'currency',
  'language',
  'timeZone',
  'websiteUrl',
] as const;

export type DetailField = (typeof DETAIL_FIELDS)[number];

export type OrganizationDetails = {
  organizationUuid: string;
  name: string;
} & Record<DetailField, string> & {
    /** Spec timestamp format, like the product payloads. */
    created: string;
    updated: string;
  };

export type OrganizationDetailsInput = { name: string } & Partial<Record<DetailField, string>>;

function toDetails(r: OrganizationRow): OrganizationDetails {
  const fields = Object.fromEntries(
    DETAIL_FIELDS.map((f) => [f, typeof r.details[f] === 'string' ? (r.details[f] as string) : '']),
  ) as Record<DetailField, string>;
  return {
    organizationUuid: r.uuid,
    name: r.name,
    ...fields,
    created: formatSpecTimestamp(r.created_at),
    updated: formatSpecTimestamp(r.updated_at),
  };
}

const sameContent = (a: OrganizationDetails, b: OrganizationDetails) =>
  a.name === b.name && DETAIL_FIELDS.every((f) => a[f] === b[f]);

export async function getOrganizationDetails(q: Queryable, actor: Actor): Promise<OrganizationDetails> {
  const row = await findOrganization(q, actor.organizationUuid);
  if (!row) throw notFound('ORGANIZATION_NOT_FOUND', `organization ${actor.organizationUuid} does not exist`);
  return toDetails(row);
}

/**
 * Replaces the organization's details (a field left out is cleared; keys of `details`
 * Herald does not know are kept). Emits OrganizationUpdated when something changed;
 * an unchanged PUT changes nothing and emits nothing.
 */
export async function updateOrganizationDetailsOf(
  ctx: DomainContext,
  actor: Actor,
  input: OrganizationDetailsInput,
): Promise<OrganizationDetails> {
  rejectNulCharacters(input);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockOrganization(tx, actor.organizationUuid);
    if (!row) throw notFound('ORGANIZATION_NOT_FOUND', `organization ${actor.organizationUuid} does not exist`);
    const old = toDetails(row);
    const details: Record<string, unknown> = { ...row.details };
    for (const f of DETAIL_FIELDS) details[f] = input[f] ?? '';
    if (sameContent(old, toDetails({ ...row, name: input.name, details }))) return old;
    const next = toDetails(await updateOrganizationDetails(tx, { uuid: row.uuid, name: input.name, details, updatedAt: now }));
    await recordEvent(tx, ctx.clock, {
      organizationUuid: actor.organizationUuid,
      eventName: 'OrganizationUpdated',
      payload: { organizationUuid: actor.organizationUuid, newEntity: next, oldEntity: old },
      livemode: actor.livemode,
    });
    return next;
  });
}
