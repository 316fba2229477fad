#!/usr/bin/env bash
# Starts a throwaway PostgreSQL from the machine's binaries (initdb/pg_ctl on PATH) in a
# temp dir on a free port, as the postgres user when run as root (PostgreSQL refuses
# root). Prints `export` lines for its URL and directory:
#   eval "$(bash scripts/temp-postgres.sh)"; ...; bash scripts/temp-postgres-stop.sh "$HERALD_PG_DIR"
set -euo pipefail
command -v initdb >/dev/null && command -v pg_ctl >/dev/null || { echo "initdb/pg_ctl not found on PATH" >&2; exit 3; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi
dir=$(mktemp -d /tmp/herald-pg.XXXXXX)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
as_pg() { if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
# Tests trade durability for speed; benchmarks (HERALD_PG_DURABLE=1) keep the defaults.
speed="-c fsync=off -c synchronous_commit=off"
[ "${HERALD_PG_DURABLE:-}" = 1 ] && speed=""
as_pg "initdb -D '$dir/data' -U postgres --auth=trust --no-sync -E UTF8 >'$dir/initdb.log' 2>&1"
as_pg "pg_ctl -D '$dir/data' -l '$dir/pg.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 $speed -c max_connections=300\" start >/dev/null"
echo "export HERALD_PG_URL='postgres://postgres@127.0.0.1:$port/postgres'"
echo "export HERALD_PG_DIR='$dir'"
