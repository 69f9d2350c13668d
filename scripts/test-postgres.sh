#!/usr/bin/env bash
# Starts a throw-away PostgreSQL on loopback (installing Debian's package if it is missing),
# runs the given command with KMSD_TEST_POSTGRES_URL pointing at it, and removes it again.
# Usage: scripts/test-postgres.sh npm test
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=${KMSD_TEST_PGPORT:-55432}
PGDATA=$(mktemp -d /tmp/kmsd-pg.XXXXXX)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$PGDATA"; fi

cleanup() {
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap cleanup EXIT

as_postgres "$PGBIN/initdb" -D "$PGDATA" -A trust -U kmsd >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c max_connections=200 -c wal_level=logical" start >/dev/null

export KMSD_TEST_POSTGRES_URL="postgres://kmsd@127.0.0.1:$PGPORT/postgres"
"$@"
