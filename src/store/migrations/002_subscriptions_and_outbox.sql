-- Webhook subscriptions and the delivery outbox.

-- A subscription row outlives its deletion (deleted_at) so that its messages and
-- attempts stay listed; a deleted subscription's uuid may be used again.
create table subscriptions (
  id bigserial primary key,
  uuid uuid not null,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  transport_name text not null,
  -- Empty: every event.
  event_names text[] not null,
  destination text not null,
  -- scheme://host:port of the destination: deliveries are limited per origin.
  destination_origin text generated always as (lower(substring(destination from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+'))) stored,
  contact_email text not null,
  status text not null check (status in ('ACTIVE', 'FAILING')),
  -- Shown to the owner on create and list, so kept as is (it is an HMAC key, not a password).
  signing_key text not null unique,
  -- Which credential created it: 'api_key:<apiKeyId>' or 'app_connection:<connectionId>'.
  created_by text not null,
  livemode boolean not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  -- When the current failing period began, and whether its warning mail went out.
  failing_since timestamptz,
  failing_warned boolean not null default false,
  -- Whether this failing period's "retries exhausted" mail went out (keep mode sends one).
  exhausted_warned boolean not null default false,
  deleted_at timestamptz,
  deleted_reason text
);
create unique index subscriptions_live_uuid on subscriptions (organization_uuid, uuid) where deleted_at is null;
create index subscriptions_organization on subscriptions (organization_uuid) where deleted_at is null;

-- The outbox: an event is accepted once its row is committed. message_id is the
-- Pusher messageId / Inventory id: stable for every subscriber and every retry.
create table events (
  id bigserial primary key,
  organization_uuid uuid not null,
  event_name text not null,
  message_id text not null,
  -- json, not jsonb: keeps the producer's key order, and the worker embeds the text as is.
  payload json not null,
  livemode boolean not null,
  created_at timestamptz not null,
  unique (organization_uuid, message_id)
);

-- One row per (event, subscription), created with the event in the same statement.
-- state: pending (to send, or being sent), delivered, failed (schedule exhausted, or
-- the destination answered 410), cancelled (the subscription went away first).
-- A claimed delivery has its next_attempt_at pushed to the end of its lease: if its
-- worker dies, it is due again when the lease runs out. One partial index serves claims.
create table deliveries (
  id bigserial primary key,
  event_id bigint not null references events (id) on delete cascade,
  subscription_id bigint not null references subscriptions (id) on delete cascade,
  state text not null check (state in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  leased_by text,
  last_status integer,
  last_error text,
  created_at timestamptz not null,
  finished_at timestamptz
);
-- In claim order, so a claim reads the first due rows of the index and stops.
create index deliveries_due on deliveries (next_attempt_at, id) where state = 'pending';
create index deliveries_subscription on deliveries (subscription_id, id);
-- No index on event_id: events are never deleted, and reads join events by its key;
-- one index fewer to maintain for every fanned-out row.

-- Every attempt, for the attempt log.
create table attempts (
  id bigserial primary key,
  delivery_id bigint not null references deliveries (id) on delete cascade,
  -- The attemptId sent in the Inventory envelope (unique per attempt).
  attempt_id text not null,
  started_at timestamptz not null,
  latency_ms integer not null,
  outcome text not null check (outcome in ('success', 'failure')),
  status_code integer,
  error_class text,
  error_message text,
  response_excerpt text
);
create index attempts_delivery on attempts (delivery_id, id);

-- Mails to contactEmail, written in the transaction that decides to send them, then
-- sent by a worker (or, with no SMTP server configured, only kept here).
create table mails (
  id bigserial primary key,
  organization_uuid uuid not null,
  subscription_uuid uuid not null,
  kind text not null check (kind in ('failing', 'exhausted', 'gone')),
  to_address text not null,
  subject text not null,
  body text not null,
  created_at timestamptz not null,
  sent_at timestamptz,
  attempts integer not null default 0,
  -- A failed send waits before the next try (1, 2, 4, 8 minutes).
  next_attempt_at timestamptz not null,
  last_error text
);
create index mails_unsent on mails (next_attempt_at) where sent_at is null;
