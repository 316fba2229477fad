-- Workers on PostgreSQL say they are alive every HERALD_HEARTBEAT_SECONDS. A worker whose
-- beats stopped (SIGKILL, a lost machine) has its leased deliveries released by the others
-- within seconds, instead of when each lease runs out (src/delivery/heartbeat.ts).
-- Times are the database's clock, so workers on machines whose clocks differ agree.
create table worker_heartbeats (
  worker_id text primary key,
  started_at timestamptz not null default clock_timestamp(),
  beat_at timestamptz not null default clock_timestamp()
);
