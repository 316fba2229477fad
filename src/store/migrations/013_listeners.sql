-- `herald listen` (issue 10): a developer's CLI holds a stream open to an API process,
-- and Herald delivers the organization's matching events through it to a local server.
-- A listener is a subscription of transport LISTEN whose destination is
-- listen://<listener id>: fan-out, claims, limits, retries and the attempt log treat it
-- as any other subscription. Only the send stage differs: the worker puts the signed
-- request in listen_requests, the API process holding the stream pushes it to the CLI,
-- and the CLI's report of the local server's answer comes back through any API process.
create table listeners (
  id uuid primary key,
  subscription_id bigint not null unique references subscriptions (id) on delete cascade,
  organization_uuid uuid not null references organizations (uuid) on delete cascade,
  created_at timestamptz not null,
  -- Refreshed while a stream is open (and at create); a listener not seen for a minute
  -- has lost its CLI (or its API process), and is ended by the next sweep.
  seen_at timestamptz not null
);
create index listeners_seen on listeners (seen_at);

-- A signed request waiting to be pushed (pushed_at null), pushed and waiting for its
-- answer, or answered. The worker that made it deletes it once it has the answer or gives up.
create table listen_requests (
  id uuid primary key,
  listener_id uuid not null references listeners (id) on delete cascade,
  headers json not null,
  body text not null,
  created_at timestamptz not null,
  pushed_at timestamptz,
  answered_at timestamptz,
  -- {"status", "latencyMs", "excerpt"} or {"error", "message", "latencyMs"} from the CLI.
  answer json
);
create index listen_requests_unpushed on listen_requests (listener_id, created_at) where pushed_at is null;
