import { isIP } from 'node:net';
import type { DomainContext } from '../domain/context.js';
import { toBzDate, type BzDate } from '../domain/formats.js';
import { newObjectId } from '../domain/ids.js';
import { getOrganization } from '../domain/organizations.js';
import { recordEvent } from '../domain/outbox.js';
import { badRequest, conflict, HeraldError, notFound, type Violation } from '../errors.js';
import type { Queryable, Tx } from '../store/db.js';
import {
  deletePaymentTerminal,
  findPaymentTerminal,
  findPaymentTerminalByName,
  insertPaymentTerminal,
  listPaymentTerminals,
  updatePaymentTerminal,
  type PaymentTerminalRow,
} from '../store/payment-terminals.js';
import type { Actor } from './actor.js';
import { rejectNulCharacters } from './input.js';

/** A payment terminal of the Inventory API: the API's answer and the data of paymentTerminals.created/updated. */
export interface PaymentTerminal {
  _id: string;
  accountId: string;
  name: string;
  protocol: 'ws' | 'wss';
  ip: string;
  locationId: string;
  partNumber: string;
  serialNumber: string;
  createdBy: string;
  updatedBy: string;
  createdAt: BzDate;
  updatedAt: BzDate;
}

/**
 * What a client sets; _id, accountId, createdBy, updatedBy, createdAt and updatedAt are
 * the server's (ignored when sent, so a client may PUT back what it got).
 */
export interface PaymentTerminalInput {
  name: string;
  protocol: string;
  ip: string;
  locationId: string;
  partNumber: string;
  serialNumber: string;
}

export const toPaymentTerminal = (r: PaymentTerminalRow): PaymentTerminal => ({
  _id: r.id,
  accountId: r.account_id,
  name: r.name,
  protocol: r.protocol as 'ws' | 'wss',
  ip: r.ip,
  locationId: r.location_id,
  partNumber: r.part_number,
  serialNumber: r.serial_number,
  createdBy: r.created_by,
  updatedBy: r.updated_by,
  createdAt: toBzDate(r.created_at),
  updatedAt: toBzDate(r.updated_at),
});

const HEX24 = /^[0-9a-fA-F]{24}$/;

/** The field table's rules; every broken one is a violation (400 VALIDATION_ERROR). */
export function paymentTerminalViolations(t: PaymentTerminalInput): Violation[] {
  const v: Violation[] = [];
  const bad = (propertyName: string, developerMessage: string) => v.push({ propertyName, developerMessage });
  if (t.name.trim() === '') bad('name', 'is required');
  else if (t.name.length > 256) bad('name', 'must be at most 256 characters');
  if (t.protocol !== 'ws' && t.protocol !== 'wss') bad('protocol', `must be "ws" or "wss", not "${t.protocol}"`);
  if (isIP(t.ip) === 0) bad('ip', `must be an IPv4 or IPv6 address, not "${t.ip}"`);
  if (!HEX24.test(t.locationId)) bad('locationId', 'must be 24 hexadecimal characters');
  if (!t.partNumber.startsWith('TRD')) bad('partNumber', `must start with "TRD", not "${t.partNumber}"`);
  if (t.serialNumber.trim() === '') bad('serialNumber', 'is required');
  return v;
}

function validate(t: PaymentTerminalInput): void {
  rejectNulCharacters(t);
  const v = paymentTerminalViolations(t);
  if (v.length > 0) {
    // WRONG_DATA: the Inventory API's code for an invalid terminal.
    throw badRequest('WRONG_DATA', v.map((x) => `${x.propertyName} ${x.developerMessage}`).join('; '), v);
  }
}

/** A payment terminal id from a path: 24 hex, else 400 (so a typo is not mistaken for a deleted terminal). */
export function parsePaymentTerminalId(id: string): string {
  if (!HEX24.test(id)) {
    throw badRequest('INVALID_PAYMENT_TERMINAL_ID', `paymentTerminalId must be 24 hexadecimal characters, not "${id}"`, [
      { propertyName: 'paymentTerminalId', developerMessage: 'must be 24 hexadecimal characters' },
    ]);
  }
  return id.toLowerCase();
}

const notFoundError = (id: string) => notFound('PAYMENT_TERMINAL_NOT_FOUND', `payment terminal ${id} does not exist`);

const nameClash = (name: string, other: string) =>
  conflict('PAYMENT_TERMINAL_NAME_ALREADY_EXISTS', `a payment terminal named "${name}" already exists in this account: ${other}`, [
    { propertyName: 'name', developerMessage: `is already the name of payment terminal ${other}` },
  ]);

/**
 * The name-clash check runs first for a clear message; the unique index on
 * (account_id, name) still decides a race between two writers, whose loser gets the
 * same 409.
 */
async function withNameClashAsConflict<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: string }).code === '23505' && !(err instanceof HeraldError)) throw nameClash(name, 'created concurrently');
    throw err;
  }
}

/** The columns a client sets, from a validated input (the rest are the server's). */
function clientFields(input: PaymentTerminalInput) {
  return {
    name: input.name,
    protocol: input.protocol,
    ip: input.ip,
    location_id: input.locationId.toLowerCase(),
    part_number: input.partNumber,
    serial_number: input.serialNumber,
  };
}

export async function createPaymentTerminal(ctx: DomainContext, actor: Actor, input: PaymentTerminalInput): Promise<PaymentTerminal> {
  validate(input);
  const now = ctx.clock.now();
  return withNameClashAsConflict(input.name, () =>
    ctx.db.transaction(async (tx) => {
      const { accountId } = await getOrganization(tx, actor.organizationUuid);
      const clash = await findPaymentTerminalByName(tx, accountId, input.name, null);
      if (clash) throw nameClash(input.name, clash.id);
      const row: PaymentTerminalRow = {
        id: newObjectId(now),
        organization_uuid: actor.organizationUuid,
        account_id: accountId,
        ...clientFields(input),
        created_by: actor.userObjectId,
        updated_by: actor.userObjectId,
        created_at: now,
        updated_at: now,
      };
      await insertPaymentTerminal(tx, row);
      const terminal = toPaymentTerminal(row);
      await emit(tx, ctx, actor, 'paymentTerminals.created', terminal);
      return terminal;
    }),
  );
}

/** Replaces the client-settable fields of a terminal; emits paymentTerminals.updated. */
export async function replacePaymentTerminal(
  ctx: DomainContext,
  actor: Actor,
  paymentTerminalId: string,
  input: PaymentTerminalInput,
): Promise<PaymentTerminal> {
  const id = parsePaymentTerminalId(paymentTerminalId);
  validate(input);
  const now = ctx.clock.now();
  return withNameClashAsConflict(input.name, () =>
    ctx.db.transaction(async (tx) => {
      const current = await findPaymentTerminal(tx, actor.organizationUuid, id);
      if (!current) throw notFoundError(id);
      const clash = await findPaymentTerminalByName(tx, current.account_id, input.name, id);
      if (clash) throw nameClash(input.name, clash.id);
      const row = await updatePaymentTerminal(tx, {
        id,
        organization_uuid: actor.organizationUuid,
        ...clientFields(input),
        updated_by: actor.userObjectId,
        updated_at: now,
      });
      if (!row) throw notFoundError(id);
      const terminal = toPaymentTerminal(row);
      await emit(tx, ctx, actor, 'paymentTerminals.updated', terminal);
      return terminal;
    }),
  );
}

/** Deletes a terminal; emits paymentTerminals.deleted with data {paymentTerminalId}. */
export async function removePaymentTerminal(ctx: DomainContext, actor: Actor, paymentTerminalId: string): Promise<string> {
  const id = parsePaymentTerminalId(paymentTerminalId);
  await ctx.db.transaction(async (tx) => {
    if (!(await deletePaymentTerminal(tx, actor.organizationUuid, id))) throw notFoundError(id);
    await emit(tx, ctx, actor, 'paymentTerminals.deleted', { paymentTerminalId: id });
  });
  return id;
}

export async function getPaymentTerminal(q: Queryable, actor: Actor, paymentTerminalId: string): Promise<PaymentTerminal> {
  const id = parsePaymentTerminalId(paymentTerminalId);
  const row = await findPaymentTerminal(q, actor.organizationUuid, id);
  if (!row) throw notFoundError(id);
  return toPaymentTerminal(row);
}

/** One page of the organization's terminals, oldest first, and how many there are in all. */
export async function pageOfPaymentTerminals(
  q: Queryable,
  actor: Actor,
  page: { page: number; pageSize: number },
): Promise<{ paymentTerminals: PaymentTerminal[]; count: number }> {
  const r = await listPaymentTerminals(q, actor.organizationUuid, { limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
  return { paymentTerminals: r.rows.map(toPaymentTerminal), count: r.count };
}

/**
 * Records an Inventory-envelope event: the payload is the envelope's `data`; the
 * outbox gives it a new ObjectId-form id, the envelope's `id` (the same for every
 * subscriber and retry).
 */
async function emit(tx: Tx, ctx: DomainContext, actor: Actor, eventName: string, data: unknown): Promise<void> {
  await recordEvent(tx, ctx.clock, {
    organizationUuid: actor.organizationUuid,
    eventName,
    payload: data,
    livemode: actor.livemode,
  });
}
