import type { Queryable } from './db.js';

export interface PaymentTerminalRow {
  id: string;
  organization_uuid: string;
  account_id: string;
  name: string;
  protocol: string;
  ip: string;
  location_id: string;
  part_number: string;
  serial_number: string;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

export async function insertPaymentTerminal(q: Queryable, t: PaymentTerminalRow): Promise<void> {
  await q.query(
    `insert into payment_terminals (id, organization_uuid, account_id, name, protocol, ip, location_id,
       part_number, serial_number, created_by, updated_by, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      t.id,
      t.organization_uuid,
      t.account_id,
      t.name,
      t.protocol,
      t.ip,
      t.location_id,
      t.part_number,
      t.serial_number,
      t.created_by,
      t.updated_by,
      t.created_at,
      t.updated_at,
    ],
  );
}

/** Replaces the client-settable fields; returns the row as it is now, or undefined when missing. */
export async function updatePaymentTerminal(
  q: Queryable,
  t: Pick<
    PaymentTerminalRow,
    'id' | 'organization_uuid' | 'name' | 'protocol' | 'ip' | 'location_id' | 'part_number' | 'serial_number' | 'updated_by' | 'updated_at'
  >,
): Promise<PaymentTerminalRow | undefined> {
  const r = await q.query<PaymentTerminalRow>(
    `update payment_terminals set name = $3, protocol = $4, ip = $5, location_id = $6, part_number = $7,
       serial_number = $8, updated_by = $9, updated_at = $10
     where id = $1 and organization_uuid = $2
     returning *`,
    [t.id, t.organization_uuid, t.name, t.protocol, t.ip, t.location_id, t.part_number, t.serial_number, t.updated_by, t.updated_at],
  );
  return r.rows[0];
}

export async function deletePaymentTerminal(q: Queryable, organizationUuid: string, id: string): Promise<boolean> {
  const r = await q.query(`delete from payment_terminals where id = $1 and organization_uuid = $2`, [id, organizationUuid]);
  return r.rowCount === 1;
}

export async function findPaymentTerminal(q: Queryable, organizationUuid: string, id: string): Promise<PaymentTerminalRow | undefined> {
  const r = await q.query<PaymentTerminalRow>(`select * from payment_terminals where id = $1 and organization_uuid = $2`, [
    id,
    organizationUuid,
  ]);
  return r.rows[0];
}

/** The terminal of this account with this name, other than `exceptId` (the name-clash check). */
export async function findPaymentTerminalByName(
  q: Queryable,
  accountId: string,
  name: string,
  exceptId: string | null,
): Promise<PaymentTerminalRow | undefined> {
  const r = await q.query<PaymentTerminalRow>(
    `select * from payment_terminals where account_id = $1 and name = $2 and ($3::text is null or id <> $3::text)`,
    [accountId, name, exceptId],
  );
  return r.rows[0];
}

/** A page of an organization's terminals (oldest first) and the total count, in one statement. */
export async function listPaymentTerminals(
  q: Queryable,
  organizationUuid: string,
  page: { limit: number; offset: number },
): Promise<{ rows: PaymentTerminalRow[]; count: number }> {
  const r = await q.query<PaymentTerminalRow & { total: number }>(
    `select *, count(*) over () as total from payment_terminals where organization_uuid = $1
      order by created_at, id limit $2 offset $3`,
    [organizationUuid, page.limit, page.offset],
  );
  // A page past the end has no row to carry the total: count separately then (rare).
  if (r.rows.length === 0 && page.offset > 0) {
    const c = await q.query<{ n: number }>('select count(*) as n from payment_terminals where organization_uuid = $1', [organizationUuid]);
    return { rows: [], count: c.rows[0]!.n };
  }
  return { rows: r.rows.map(({ total: _total, ...row }) => row), count: r.rows[0]?.total ?? 0 };
}
