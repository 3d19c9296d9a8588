# Shared by tests/api/run and tests/forms/run (source it): the debug build of ketaflow serving
# its demo on a fresh database, first SQLite, then PostgreSQL at KETAFLOW_TEST_POSTGRES_URL.
#
#   source tests/demo_server.sh
#   check() { ...; }               # $1 the database URL, $port the server's port
#   on_both_databases check        # starts the demo on each database, calls check, stops it
#
# Extra settings for the server: DEMO_ENV (an array of NAME=value). The server's log is
# "$work/server.log"; the databases and the work directory are removed on exit.

_demo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_demo_pg="${KETAFLOW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
_demo_pg="${_demo_pg%%\?*}"
_demo_pg_name="kf_demo_$$"
(cd "$_demo_root" && cargo build --locked -q -p ketaflow)
bin="$_demo_root/target/debug/ketaflow"
work="$(mktemp -d)"
server=""
port=""
_demo_cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  psql "$_demo_pg" -qc "drop database if exists $_demo_pg_name with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap _demo_cleanup EXIT

# Starts the demo on the database at $1 and waits until it answers; sets $port and $server.
demo_start() {
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  env KETAFLOW_LOG__FILTER=error ${DEMO_ENV[@]+"${DEMO_ENV[@]}"} \
    "$bin" serve --demo --database "$1" --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server=$!
  for i in $(seq 1 100); do
    "$bin" healthcheck --url "http://127.0.0.1:$port" >/dev/null 2>&1 && return 0
    [ "$i" -eq 100 ] && { cat "$work/server.log"; echo "the server did not start"; exit 1; }
    sleep 0.1
  done
}

# Stops the server demo_start started.
demo_stop() {
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

# Runs the function $1 against the demo on a fresh SQLite file, then on a fresh PostgreSQL
# database, with the database URL as its argument.
on_both_databases() {
  echo "SQLite:"
  demo_start "sqlite://$work/k.db"
  "$1" "sqlite://$work/k.db"
  demo_stop
  echo "PostgreSQL (a fresh database at ${_demo_pg%/*}):"
  psql "$_demo_pg" -qc "create database $_demo_pg_name" >/dev/null
  demo_start "${_demo_pg%/*}/$_demo_pg_name"
  "$1" "${_demo_pg%/*}/$_demo_pg_name"
  demo_stop
}
