import { badRequest, notFound } from '../errors.js';
import { findOrganization, insertOrganization, listOrganizations, type OrganizationRow } from '../store/organizations.js';
import type { Queryable } from '../store/db.js';
import type { DomainContext } from './context.js';
import { isUuid, newObjectId, newUuidV1 } from './ids.js';

export interface Organization {
  organizationUuid: string;
  name: string;
  /** 24-hex id of the organization where the Inventory API shows one (payment terminals' accountId). */
  accountId: string;
  details: Record<string, unknown>;
  created: string;
  updated: string;
}

export const toOrganization = (r: OrganizationRow): Organization => ({
  organizationUuid: r.uuid,
  name: r.name,
  accountId: r.object_id,
  details: r.details,
  created: r.created_at.toISOString(),
  updated: r.updated_at.toISOString(),
});

export async function createOrganization(
  ctx: DomainContext,
  input: { name: string; details?: Record<string, unknown> },
): Promise<Organization> {
  const now = ctx.clock.now();
  const row: OrganizationRow = {
    uuid: newUuidV1(now.getTime()),
    object_id: newObjectId(now),
    name: input.name,
    details: input.details ?? {},
    created_at: now,
    updated_at: now,
  };
  await insertOrganization(ctx.db, row);
  return toOrganization(row);
}

/** The organization, or 404 ORGANIZATION_NOT_FOUND. */
export async function getOrganization(q: Queryable, uuid: string): Promise<Organization> {
  const row = isUuid(uuid) ? await findOrganization(q, uuid) : undefined;
  if (!row) throw notFound('ORGANIZATION_NOT_FOUND', `organization ${uuid} does not exist`);
  return toOrganization(row);
}

/**
 * A page of organizations in creation order: at most `limit`, after the organization
 * `after` (the last of the previous page). An `after` that names no organization is 400:
 * an empty answer would read as "no more".
 */
export async function listOrganizationsPage(q: Queryable, o: { limit: number; after?: string }): Promise<Organization[]> {
  if (o.after !== undefined && !(isUuid(o.after) && (await findOrganization(q, o.after)))) {
    throw badRequest('VALIDATION_ERROR', `after: no organization ${o.after}`, [
      { propertyName: 'after', developerMessage: 'must be the organizationUuid of an organization (the last of the previous page)' },
    ]);
  }
  return (await listOrganizations(q, { limit: o.limit, after: o.after ?? null })).map(toOrganization);
}
