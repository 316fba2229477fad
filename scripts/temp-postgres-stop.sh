#!/usr/bin/env bash
# Stops and removes a PostgreSQL started by temp-postgres.sh: temp-postgres-stop.sh <dir>
dir="${1:?usage: temp-postgres-stop.sh <dir>}"
case "$dir" in /tmp/herald-pg.*) ;; *) echo "refusing to remove $dir" >&2; exit 2 ;; esac
if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "pg_ctl -D '$dir/data' -m immediate stop" >/dev/null 2>&1
else pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1; fi
rm -rf "$dir"
