-- The business APIs that emit the spec's events: product library, inventory,
-- purchases, payment terminals. Each write and the events it emits share one
-- transaction (see sources/).

-- The product library. `document` is the product exactly as the API returns it and as
-- ProductCreated/Updated/Deleted carry it, so what subscribers receive is what was
-- stored. A deleted product stays (deleted_at) so that its uuid is not silently
-- reused for another product's history; creating it again revives the row.
create table products (
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  uuid uuid not null,
  document jsonb not null,
  -- 32 uppercase hex, as the spec shows; a new one on every write (If-Match compares it).
  etag text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  deleted_at timestamptz,
  primary key (organization_uuid, uuid)
);

-- Where stock is kept. Every organization gets one default STORE location, created
-- the first time inventory needs it (insert .. on conflict do nothing on the partial
-- unique index makes concurrent first uses create exactly one).
create table locations (
  uuid uuid primary key,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  type text not null check (type in ('STORE', 'SUPPLIER', 'SOLD', 'BIN')),
  name text not null,
  is_default boolean not null default false,
  created_at timestamptz not null
);
create unique index locations_default on locations (organization_uuid) where is_default;
create index locations_organization on locations (organization_uuid);

-- Products whose stock is tracked (one row while tracking is on).
create table inventory_tracking (
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  product_uuid uuid not null,
  started_at timestamptz not null,
  started_by_user_uuid uuid not null,
  primary key (organization_uuid, product_uuid)
);

-- Stock per (location, product, variant). numeric, so that products sold by weight
-- or length ("0.5") count exactly; rendered as canonical decimal strings ("10").
-- A missing row is a balance of 0. Writers lock the rows they change in key order.
create table inventory_balances (
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  location_uuid uuid not null references locations (uuid) on delete cascade,
  product_uuid uuid not null,
  variant_uuid uuid not null,
  balance numeric not null,
  updated_at timestamptz not null,
  primary key (location_uuid, product_uuid, variant_uuid)
);
create index inventory_balances_product on inventory_balances (organization_uuid, product_uuid);

-- purchaseNumber: one counter row per organization, incremented with
-- `insert .. on conflict do update .. returning` in the purchase's transaction, so
-- numbers increase without gaps from rolled-back purchases and two purchases never
-- share one (the row lock serializes them for the rest of the transaction).
create table purchase_counters (
  organization_uuid uuid primary key references organizations (uuid) on delete cascade,
  last_number bigint not null
);

-- Purchases; `document` is the PurchaseCreated payload.
create table purchases (
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  uuid uuid not null,
  purchase_number bigint not null,
  document jsonb not null,
  created_at timestamptz not null,
  primary key (organization_uuid, uuid),
  unique (organization_uuid, purchase_number)
);

-- Payment terminals of the Inventory API. Ids are 24 lowercase hex (ObjectId form).
-- Names are unique within the account (the organization's accountId).
create table payment_terminals (
  id text primary key check (id ~ '^[0-9a-f]{24}$'),
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  account_id text not null,
  name text not null,
  protocol text not null check (protocol in ('ws', 'wss')),
  ip text not null,
  location_id text not null check (location_id ~ '^[0-9a-f]{24}$'),
  part_number text not null check (part_number like 'TRD%'),
  serial_number text not null check (serial_number <> ''),
  created_by text not null,
  updated_by text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (account_id, name)
);
create index payment_terminals_organization on payment_terminals (organization_uuid, created_at, id);
