import type { Queryable } from './db.js';

export interface SubscriptionRow {
  id: number;
  uuid: string;
  organization_uuid: string;
  transport_name: string;
  event_names: string[];
  destination: string;
  contact_email: string;
  status: 'ACTIVE' | 'FAILING';
  signing_key: string;
  /** FIFO (an extension): deliveries go out one at a time, in order. */
  ordered: boolean;
  created_by: string;
  livemode: boolean;
  created_at: Date;
  updated_at: Date;
  failing_since: Date | null;
  failing_warned: boolean;
  deleted_at: Date | null;
  deleted_reason: string | null;
}

export type NewSubscriptionRow = Pick<
  SubscriptionRow,
  | 'uuid'
  | 'organization_uuid'
  | 'transport_name'
  | 'event_names'
  | 'destination'
  | 'contact_email'
  | 'signing_key'
  | 'ordered'
  | 'created_by'
  | 'livemode'
  | 'created_at'
>;

/** Inserts a live subscription; a live one with the same uuid in the organization raises 23505. */
export async function insertSubscription(q: Queryable, s: NewSubscriptionRow): Promise<SubscriptionRow> {
  const r = await q.query<SubscriptionRow>(
    `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                                status, signing_key, created_by, livemode, created_at, updated_at, ordered)
     values ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7, $8, $9, $10, $10, $11)
     returning *`,
    [
      s.uuid,
      s.organization_uuid,
      s.transport_name,
      s.event_names,
      s.destination,
      s.contact_email,
      s.signing_key,
      s.created_by,
      s.livemode,
      s.created_at,
      s.ordered,
    ],
  );
  return r.rows[0]!;
}

/**
 * Locks the organization's row until the transaction ends and counts its live
 * subscriptions: creates that check the limit this way one at a time cannot, together,
 * pass it.
 */
export async function lockAndCountLiveSubscriptions(q: Queryable, organizationUuid: string): Promise<number> {
  await q.query('select 1 from organizations where uuid = $1 for update', [organizationUuid]);
  return countLiveSubscriptions(q, organizationUuid);
}

/** How many live subscriptions the organization has (subscriptions_organization serves it). */
export async function countLiveSubscriptions(q: Queryable, organizationUuid: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    'select count(*) as n from subscriptions where organization_uuid = $1 and deleted_at is null',
    [organizationUuid],
  );
  return r.rows[0]!.n;
}

/** The live subscription with this uuid in the organization, whatever its mode (uuids are unique per organization). */
export async function findLiveSubscription(q: Queryable, organizationUuid: string, uuid: string): Promise<SubscriptionRow | undefined> {
  const r = await q.query<SubscriptionRow>(
    'select * from subscriptions where organization_uuid = $1 and uuid = $2 and deleted_at is null',
    [organizationUuid, uuid],
  );
  return r.rows[0];
}

/** The organization's live subscriptions of one mode (test or live). */
export async function listLiveSubscriptions(q: Queryable, organizationUuid: string, livemode: boolean): Promise<SubscriptionRow[]> {
  const r = await q.query<SubscriptionRow>(
    'select * from subscriptions where organization_uuid = $1 and livemode = $2 and deleted_at is null order by created_at, id',
    [organizationUuid, livemode],
  );
  return r.rows;
}

export interface SubscriptionChanges {
  transport_name?: string;
  event_names?: string[];
  destination?: string;
  contact_email?: string;
  ordered?: boolean;
}

/** Applies the given changes to a live subscription; returns false when there is none. */
export async function updateSubscription(
  q: Queryable,
  organizationUuid: string,
  uuid: string,
  changes: SubscriptionChanges,
  updatedAt: Date,
): Promise<boolean> {
  // Switching `ordered` applies to the pending deliveries too (not to those in flight).
  const r = await q.query<{ n: number }>(
    `with up as (
       update subscriptions
          set transport_name = coalesce($3, transport_name),
              event_names = coalesce($4::text[], event_names),
              destination = coalesce($5, destination),
              contact_email = coalesce($6, contact_email),
              ordered = coalesce($8, ordered),
              updated_at = $7
        where organization_uuid = $1 and uuid = $2 and deleted_at is null
        returning id, ordered
     ), switched as (
       update deliveries d set ordered = up.ordered
         from up
        where $8::boolean is not null and d.subscription_id = up.id and d.state = 'pending' and d.ordered <> up.ordered
        returning 1
     )
     select (select count(*) from up)::int as n, (select count(*) from switched) as switched`,
    [
      organizationUuid,
      uuid,
      changes.transport_name ?? null,
      changes.event_names ?? null,
      changes.destination ?? null,
      changes.contact_email ?? null,
      updatedAt,
      changes.ordered ?? null,
    ],
  );
  return r.rows[0]!.n > 0;
}

/**
 * Deletes a live subscription, through the API or when delivery gives up on it: the row
 * stays (deleted_at) so its messages and attempts stay listed, and its pending
 * deliveries are cancelled in the same statement. `deleted` is false when it was
 * already gone.
 */
export async function retireSubscription(
  q: Queryable,
  subscriptionId: number,
  now: Date,
  reason: string,
): Promise<{ deleted: boolean; cancelled: number }> {
  const r = await q.query<{ deleted: number; cancelled: number }>(
    `with gone as (
       update subscriptions set deleted_at = $2, deleted_reason = $3 where id = $1 and deleted_at is null returning id
     ), cancelled as (
       update deliveries d set state = 'cancelled', finished_at = $2, leased_by = null
         from gone where d.subscription_id = gone.id and d.state = 'pending'
       returning 1
     )
     select (select count(*) from gone) as deleted, (select count(*) from cancelled) as cancelled`,
    [subscriptionId, now, reason],
  );
  const row = r.rows[0]!;
  return { deleted: row.deleted > 0, cancelled: row.cancelled };
}

/** The two columns that hold a subscription's signing keys: its key, and the one a rotation keeps for a while. */
export type SigningKeyColumn = 'signing_key' | 'previous_signing_key';

/**
 * Subscriptions (live or deleted) whose key in `column` is not sealed under the key with
 * this id, after the given row id, in id order: the reseal's next batch.
 */
export async function listSigningKeysNotUnder(
  q: Queryable,
  column: SigningKeyColumn,
  keyId: string,
  afterId: number,
  limit: number,
): Promise<{ id: number; stored: string }[]> {
  const r = await q.query<{ id: number; stored: string }>(
    `select id, ${column} as stored from subscriptions
     where id > $1 and ${column} not like $2
     order by id limit $3`,
    [afterId, `sealed:v1:${keyId}:%`, limit],
  );
  return r.rows;
}

/** Replaces a signing key's stored form if it is still the value read (concurrent reseals change it once). */
export async function replaceStoredSigningKey(q: Queryable, column: SigningKeyColumn, id: number, was: string, now: string): Promise<boolean> {
  const r = await q.query(`update subscriptions set ${column} = $3 where id = $1 and ${column} = $2`, [id, was, now]);
  return r.rowCount > 0;
}

/**
 * Gives a subscription a new signing key (sealed); its current one becomes the previous
 * key, used beside the new one until `until`. During an earlier rotation's overlap the
 * previous key stays (the one receivers still hold: a retried or concurrent rotation must
 * not cut it off) and the key that rotation made is dropped. False when the subscription
 * is gone.
 */
export async function rotateStoredSigningKey(q: Queryable, id: number, sealedNew: string, until: Date, now: Date): Promise<boolean> {
  const r = await q.query(
    `update subscriptions
        set previous_signing_key = case when previous_signing_key_until > $4 then previous_signing_key else signing_key end,
            signing_key = $2, previous_signing_key_until = $3, updated_at = $4
      where id = $1 and deleted_at is null`,
    [id, sealedNew, until, now],
  );
  return r.rowCount > 0;
}

/** Erases previous signing keys whose overlap has ended (they sign nothing any more). */
export async function clearExpiredPreviousKeys(q: Queryable, now: Date): Promise<number> {
  const r = await q.query(
    `update subscriptions set previous_signing_key = null, previous_signing_key_until = null
      where previous_signing_key_until <= $1`,
    [now],
  );
  return r.rowCount;
}
