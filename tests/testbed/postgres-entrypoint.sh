#!/bin/sh
# Behaves like the postgres image's entrypoint for what regie's stacks and
# tests use: POSTGRES_USER (superuser), POSTGRES_PASSWORD, POSTGRES_DB, data
# in PGDATA, trust on the local socket, passwords on TCP.
#
# Like the image, a first start initialises the cluster, then runs a
# temporary server listening on the Unix socket only, which creates the
# database and runs the scripts of /docker-entrypoint-initdb.d (*.sh with
# sh, *.sql with psql), stops it and only then starts the real server, the
# one listening on TCP. A `pg_isready` without `-h` passes during that
# first phase. Arguments are postgres options (a leading `postgres` is
# dropped), given to both servers.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
[ "${1:-}" = postgres ] && shift
# The options as one shell-quoted string (pg_ctl -o goes through a shell).
opts=""
for a in "$@"; do
  opts="$opts '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
done
as_pg() { runuser -u postgres -- "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw=$(mktemp); printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pw"; chown postgres "$pw"
  as_pg "$bin/initdb" -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pw"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "regie-postgres: init: temporary server on the socket only"
  as_pg "$bin/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' $opts" start
  sql() { as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" "$@"; }
  if [ "$POSTGRES_DB" != postgres ]; then
    printf '%s\n' "\\set db '$(printf '%s' "$POSTGRES_DB" | sed "s/'/''/g")'" 'CREATE DATABASE :"db";' | sql --dbname=postgres
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) echo "regie-postgres: init: running $f"; sh "$f" ;;
      *.sql) echo "regie-postgres: init: running $f"; sql --dbname="$POSTGRES_DB" -f "$f" ;;
    esac
  done
  as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "regie-postgres: init process complete; ready for start up"
fi
eval "set -- $opts"
exec runuser -u postgres -- "$bin/postgres" -D "$PGDATA" "$@"
