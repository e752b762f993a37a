#!/bin/sh
# Start PostgreSQL like the Hub's database image: on an empty data directory, initdb and create the Hub's
# roles (blackduck, blackduck_user, blackduck_reporter), its databases (bds_hub, bds_hub_report, bdio) and the
# empty schema st in bds_hub (the vendor's restore script expects it "present but empty").
# Local socket: peer for the postgres OS user. TCP: md5 passwords (the lab's stand-in for certificate auth), over
# TLS when the client asks (a self-signed certificate made at init) and the build supports it.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
PORT=${PGPORT:-5432}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" /var/run/postgresql ! -user postgres -exec chown postgres:postgres {} + 2>/dev/null || true
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi

SSL=$(cat /usr/local/share/hub-postgres-ssl 2>/dev/null || echo off)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password=${HUB_POSTGRES_PASSWORD:-blackduck}
  if [ -n "${HUB_POSTGRES_PASSWORD_FILE:-}" ]; then password=$(cat "$HUB_POSTGRES_PASSWORD_FILE"); fi
  initdb -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=md5 >/dev/null
  printf 'host all all 0.0.0.0/0 md5\nhost all all ::/0 md5\n' >> "$PGDATA/pg_hba.conf"
  if [ "$SSL" = on ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=postgres \
      -keyout "$PGDATA/server.key" -out "$PGDATA/server.crt" >/dev/null 2>&1
    chmod 600 "$PGDATA/server.key"
  fi
  mkdir -p /tmp/pginit
  pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses='' -c unix_socket_directories=/tmp/pginit" start
  psql -X -q -v ON_ERROR_STOP=1 -h /tmp/pginit -U postgres -d postgres -v pw="$password" <<'SQL'
CREATE ROLE blackduck LOGIN CREATEDB CREATEROLE PASSWORD :'pw';
CREATE ROLE blackduck_user LOGIN PASSWORD :'pw';
CREATE ROLE blackduck_reporter LOGIN PASSWORD :'pw';
CREATE DATABASE bds_hub OWNER blackduck;
CREATE DATABASE bds_hub_report OWNER blackduck;
CREATE DATABASE bdio OWNER blackduck;
\connect bds_hub
CREATE SCHEMA st AUTHORIZATION blackduck;
SQL
  pg_ctl -D "$PGDATA" -w -s -m fast stop
  echo "hub-postgres: initialised a new database cluster (PostgreSQL $PG_MAJOR, Hub ${HUB_VERSION:-?})"
fi
ssl_opt=""
[ "$SSL" = on ] && [ -f "$PGDATA/server.crt" ] && ssl_opt="-c ssl=on"
# Sockets in both usual places: Debian's tools look in /var/run/postgresql, the PostgreSQL 11 build's in /tmp.
# shellcheck disable=SC2086  # ssl_opt is empty or two words
exec postgres -D "$PGDATA" -p "$PORT" -c listen_addresses="${HUB_POSTGRES_LISTEN:-*}" \
  -c unix_socket_directories=/var/run/postgresql,/tmp $ssl_opt
