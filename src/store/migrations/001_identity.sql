-- Organizations, their users, and the credentials users act with.

create table organizations (
  uuid uuid primary key,
  -- 24-hex id used where the Inventory API shows ObjectIds (payment terminals' accountId).
  object_id text not null unique,
  name text not null,
  -- What OrganizationUpdated carries beyond the name (email, country, ...).
  details jsonb not null default '{}',
  created_at timestamptz not null,
  updated_at timestamptz not null
);

-- Each credential acts as a user of its organization.
create table users (
  uuid uuid primary key,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  object_id text not null unique,
  kind text not null check (kind in ('API_KEY', 'APP')),
  display_name text not null,
  created_at timestamptz not null
);
create index users_organization on users (organization_uuid);

-- API keys: only the SHA-256 of the secret is kept. Revoked keys stay (revoked_at) so
-- a request with one gets "revoked" rather than "unknown".
create table api_keys (
  id uuid primary key,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  user_uuid uuid not null references users (uuid) on delete cascade,
  name text not null,
  secret_hash text not null unique,
  -- The first characters of the key, to tell keys apart in listings.
  prefix text not null,
  scopes text[] not null,
  livemode boolean not null,
  created_at timestamptz not null,
  revoked_at timestamptz
);
create index api_keys_organization on api_keys (organization_uuid);

-- App connections: an OAuth client authorized for an organization.
create table app_connections (
  id uuid primary key,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  user_uuid uuid not null references users (uuid) on delete cascade,
  client_id text not null,
  scopes text[] not null,
  livemode boolean not null,
  created_at timestamptz not null,
  removed_at timestamptz
);
create index app_connections_organization on app_connections (organization_uuid);

-- Refresh tokens: SHA-256 hashes only; rotated on every use (used_at), and revoked
-- (revoked_at) when their connection is removed. Rows stay so that a late request with
-- one gets "already used" or "revoked" rather than "unknown".
create table refresh_tokens (
  token_hash text primary key,
  connection_id uuid not null references app_connections (id) on delete cascade,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz
);
create index refresh_tokens_connection on refresh_tokens (connection_id);

-- The key that signs access tokens (ES256), shared by every Herald process on this
-- database; created by the first process that needs it (insert .. on conflict do nothing).
create table token_signing_keys (
  kid text primary key,
  private_jwk jsonb not null,
  public_jwk jsonb not null,
  created_at timestamptz not null
);
