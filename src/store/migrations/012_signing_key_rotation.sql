-- Signing-key rotation with overlap (issue 10): a subscription given a new signing key
-- keeps its previous one, sealed like the first, until previous_signing_key_until; the
-- worker signs with both meanwhile (docs/signatures.md "Key rotation"). The claim returns
-- the previous key while it is in force. Otherwise the function is 011's, step for step.
alter table subscriptions
  add column previous_signing_key text,
  add column previous_signing_key_until timestamptz;

drop function herald_claim(timestamptz, integer, text[], integer, timestamptz, text, integer, integer, text[], integer[], integer);

create function herald_claim(
  p_now timestamptz,
  p_scan integer,
  p_skip text[],
  p_limit integer,
  p_lease_until timestamptz,
  p_worker text,
  p_initial integer,
  p_ceiling integer,
  p_own_origins text[],
  p_own_counts integer[],
  p_alive_seconds integer
) returns table (
  kind text,
  id bigint,
  attempts integer,
  ordered boolean,
  organization_uuid uuid,
  event_name text,
  message_id text,
  payload text,
  livemode boolean,
  created_at timestamptz,
  subscription_id bigint,
  subscription_uuid uuid,
  destination text,
  destination_origin text,
  signing_key text,
  previous_signing_key text,
  subscription_deleted boolean,
  scanned integer,
  others integer,
  concurrency integer,
  slow_start boolean,
  decreased_at timestamptz,
  paused_until timestamptz
)
language plpgsql
as $$
#variable_conflict use_column
declare
  v_ids bigint[];
  v_origins text[];
  v_origin text;
begin
  -- 0. The fleet: how many other workers beat recently (none on PGlite: it has no heartbeats).
  return query
  select 'fleet'::text, null::bigint, null::integer, null::boolean,
         null::uuid, null::text, null::text, null::text, null::boolean, null::timestamptz,
         null::bigint, null::uuid, null::text, null::text, null::text, null::text, null::boolean,
         null::integer, count(*)::int, null::integer, null::boolean, null::timestamptz, null::timestamptz
  from worker_heartbeats w
  where w.worker_id <> p_worker and w.beat_at > clock_timestamp() - make_interval(secs => p_alive_seconds);

  -- 1. Scan: the first due unordered rows and the due heads of ordered subscriptions,
  -- locked skip locked, in claim order.
  with recursive heads as (
    (select d.subscription_id, d.id from deliveries d
      where d.state = 'pending' and d.ordered order by d.subscription_id, d.id limit 1)
    union all
    select n.subscription_id, n.id
    from heads h
    cross join lateral (
      select d.subscription_id, d.id from deliveries d
       where d.state = 'pending' and d.ordered and d.subscription_id > h.subscription_id
       order by d.subscription_id, d.id limit 1
    ) n
  ), unordered as (
    select d.id, d.next_attempt_at, s.destination_origin as origin
    from deliveries d
    join subscriptions s on s.id = d.subscription_id
    where d.state = 'pending' and not d.ordered
      and d.next_attempt_at <= p_now
      and s.destination_origin <> all (p_skip)
    order by d.next_attempt_at, d.id
    limit p_scan
    for update of d skip locked
  ), ordered_heads as (
    select d.id, d.next_attempt_at, s.destination_origin as origin
    from deliveries d
    join subscriptions s on s.id = d.subscription_id
    where d.id in (select heads.id from heads)
      and d.state = 'pending' and d.ordered
      and d.next_attempt_at <= p_now
      and s.destination_origin <> all (p_skip)
    order by d.next_attempt_at, d.id
    limit p_scan
    for update of d skip locked
  )
  select array_agg(c.id order by c.next_attempt_at, c.id), array_agg(c.origin order by c.next_attempt_at, c.id)
    into v_ids, v_origins
  from (select * from unordered union all select * from ordered_heads) c;

  if v_ids is null then
    return;
  end if;

  -- 2. Lock each candidate origin, in sorted order (no deadlock between claimers), until
  -- the transaction (this call) ends.
  foreach v_origin in array (select array_agg(distinct o order by o) from unnest(v_origins) o) loop
    perform pg_advisory_xact_lock(hashtextextended(v_origin, 0));
  end loop;

  -- 3. Take: a new snapshot, taken after the locks. Per origin: its limit (0 while
  -- paused), minus the other workers' deliveries in flight, minus this worker's own.
  return query
  with candidates as (
    select c.id, c.origin, c.ord from unnest(v_ids, v_origins) with ordinality as c(id, origin, ord)
  ), origins as (
    select c.origin, count(*)::int as scanned from candidates c group by c.origin
  ), fleet as (
    select s.destination_origin as origin, count(*)::int as n
    from deliveries d
    join subscriptions s on s.id = d.subscription_id
    where d.state = 'pending' and d.leased_by is not null and d.leased_by <> p_worker and d.next_attempt_at > p_now
      and s.destination_origin in (select o.origin from origins o)
    group by s.destination_origin
  ), allowed as (
    select o.origin, o.scanned, coalesce(f.n, 0) as others, l.concurrency, l.slow_start, l.decreased_at, l.paused_until,
           case when l.paused_until > p_now then 0 else least(coalesce(l.concurrency, p_initial), p_ceiling) end
             - coalesce(f.n, 0) - coalesce(own.n, 0) as room
    from origins o
    left join destination_limits l on l.origin = o.origin
    left join fleet f on f.origin = o.origin
    left join unnest(p_own_origins, p_own_counts) as own(origin, n) on own.origin = o.origin
  ), ranked as (
    select c.id, c.ord, a.room, row_number() over (partition by c.origin order by c.ord) as rn
    from candidates c
    join allowed a on a.origin = c.origin
  ), chosen as (
    select r.id from ranked r where r.rn <= r.room order by r.ord limit p_limit
  ), claimed as (
    update deliveries d
       set next_attempt_at = p_lease_until, leased_by = p_worker, attempts = d.attempts + 1
     where d.id = any (array(select chosen.id from chosen))
    returning d.id, d.attempts, d.event_id, d.subscription_id, d.ordered
  )
  select 'delivery'::text, c.id, c.attempts, c.ordered,
         e.organization_uuid, e.event_name, e.message_id, e.payload::text, e.livemode, e.created_at,
         s.id, s.uuid, s.destination, s.destination_origin, s.signing_key,
         case when s.previous_signing_key_until > p_now then s.previous_signing_key end, s.deleted_at is not null,
         null::integer, null::integer, null::integer, null::boolean, null::timestamptz, null::timestamptz
  from claimed c
  join events e on e.id = c.event_id
  join subscriptions s on s.id = c.subscription_id
  union all
  select 'origin'::text, null::bigint, null::integer, null::boolean,
         null::uuid, null::text, null::text, null::text, null::boolean, null::timestamptz,
         null::bigint, null::uuid, null::text, a.origin, null::text, null::text, null::boolean,
         a.scanned, a.others, a.concurrency, a.slow_start, a.decreased_at, a.paused_until
  from allowed a;
end;
$$;
