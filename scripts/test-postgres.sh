#!/usr/bin/env bash
# A private PostgreSQL server for the persistence tests (tests/LuaActors.Tests/Persistence):
#   scripts/test-postgres.sh start   installs postgresql from Debian if missing, starts a server on
#                                    127.0.0.1:55432 (user postgres, trust auth, socket in /tmp)
#                                    and prints the connection string to export as LUAACTORS_TEST_POSTGRES
#   scripts/test-postgres.sh stop    stops it and deletes its data directory
# The tests create (and drop) a database of their own on it.
set -euo pipefail
port=${LUAACTORS_TEST_POSTGRES_PORT:-55432}
data=${LUAACTORS_TEST_POSTGRES_DATA:-/tmp/luaactors-test-postgres}

bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    if [ -z "$(bin)" ]; then
      sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
      echo "test-postgres: installing postgresql" >&2
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    fi
    b=$(bin)
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"; mkdir -p "$data"
      [ "$(id -u)" -ne 0 ] || chown postgres "$data"
      as_postgres "$b/initdb" -D "$data" -A trust -U postgres >/dev/null
    fi
    as_postgres "$b/pg_ctl" -D "$data" -w -l "$data/server.log" \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    b=$(bin)
    [ -z "$b" ] || [ ! -f "$data/PG_VERSION" ] || as_postgres "$b/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    rm -rf "$data"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
