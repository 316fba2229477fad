-- Issue 12: each destination origin's concurrency limit, learned from its answers
-- (src/delivery/destination-limits.ts), is shared by every worker of a fleet, so N
-- workers do not send N times the limit. A row exists once an origin's limit moved
-- from its start. Times are the workers' clocks (as leases are).
create table destination_limits (
  origin text primary key,
  concurrency integer not null check (concurrency >= 1),
  -- Doubling after each window of fast successes until the first overload; then +1.
  slow_start boolean not null,
  -- The last halving: answers to requests sent before it do not halve again.
  decreased_at timestamptz,
  -- A Retry-After paused every delivery to the origin until then.
  paused_until timestamptz,
  updated_at timestamptz not null
);

-- The deliveries in flight (leased), which the claim counts per origin across the fleet.
-- Small: at most the fleet's concurrency rows.
create index deliveries_leased on deliveries (subscription_id) where state = 'pending' and leased_by is not null;
