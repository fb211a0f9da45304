#!/usr/bin/env bash
# A real Temporal cluster on this machine, no Docker: the Temporal server (Go, built from the
# module proxy and cached under .tools/temporal-server) on a private PostgreSQL (Debian's, its own
# port and data dir), with the config docker-compose.yml uses (temporal/cluster/config). See
# docs/production.md.
#
#   scripts/cluster.sh tools             build or reuse temporal-server + temporal-sql-tool (cold: ~6-14 min)
#   scripts/cluster.sh up                tools, PostgreSQL, schemas (create + migrate), server, namespace
#   scripts/cluster.sh down              stop the server and PostgreSQL this script started
#   scripts/cluster.sh stop-temporal [--kill]   stop only the server (SIGTERM, or SIGKILL)
#   scripts/cluster.sh start-temporal    start the server again (PostgreSQL must be up)
#   scripts/cluster.sh env               print TEMPORAL_ADDRESS=… for switchyard gateway/worker
#
# Environment (all optional):
#   SWITCHYARD_CLUSTER_DIR    state: pgdata/, logs, pid files      (default .switchyard-cluster)
#   SWITCHYARD_CLUSTER_PORT   Temporal frontend gRPC port           (default 17233; the server's
#                             other ports are derived from it: +1 history, +2 matching, +6 worker,
#                             +10 frontend HTTP, +100.. membership)
#   SWITCHYARD_CLUSTER_PG_PORT  PostgreSQL port on 127.0.0.1        (default 55432)
#   NUM_HISTORY_SHARDS        fixed for the life of the database     (default 4)
# Only processes whose PIDs this script wrote to SWITCHYARD_CLUSTER_DIR are ever stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TEMPORAL_VERSION=v1.32.2
GO_TOOLCHAIN=go1.26.10
TOOLS=$ROOT/.tools/temporal-server
BIN=$TOOLS/bin
CONFIG_DIR=$ROOT/temporal/cluster # cwd of the server: config/temporal.yaml, config/dynamicconfig/…
STATE=${SWITCHYARD_CLUSTER_DIR:-$ROOT/.switchyard-cluster}
PORT=${SWITCHYARD_CLUSTER_PORT:-17233}
PG_PORT=${SWITCHYARD_CLUSTER_PG_PORT:-55432}
DB_USER=temporal
DB_PASSWORD=temporal
ADDRESS=127.0.0.1:$PORT

log() { echo "[cluster] $*" >&2; }
die() { echo "[cluster] error: $*" >&2; exit 1; }
as_root() { [ "$(id -u)" = 0 ]; }

# --- tools -------------------------------------------------------------------------------------

# Builds (or reuses) the pinned server and its schema tool; GOPATH and the build cache stay in
# .tools so a second build is seconds, and CI can cache the directory.
tools() {
  local version=${TEMPORAL_VERSION#v}
  if "$BIN/temporal-server" --version 2>/dev/null | grep -q "$version" &&
    "$BIN/temporal-sql-tool" --version 2>/dev/null | grep -q "$version"; then
    return 0
  fi
  if ! command -v go >/dev/null; then
    as_root || die "Go is needed to build the Temporal server: sudo apt-get install -y golang-go (any Go >= 1.21; it fetches $GO_TOOLCHAIN itself)"
    log "installing Go (Debian golang-go)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null; }
  fi
  mkdir -p "$BIN"
  export GOPATH=$TOOLS/gopath GOBIN=$BIN GOCACHE=$TOOLS/gocache GOMODCACHE=$TOOLS/gopath/pkg/mod
  export GOTOOLCHAIN=$GO_TOOLCHAIN GOFLAGS=${GOFLAGS:--p=1}
  local t0=$SECONDS
  log "building temporal-server $TEMPORAL_VERSION with $GO_TOOLCHAIN (cold: 6-14 min on 2 cores, ~2 GB RAM)"
  go install "go.temporal.io/server/cmd/server@$TEMPORAL_VERSION"
  go install "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_VERSION"
  mv -f "$BIN/server" "$BIN/temporal-server"
  mv -f "$BIN/sql" "$BIN/temporal-sql-tool"
  log "built in $((SECONDS - t0)) s: $("$BIN/temporal-server" --version)"
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# initdb and postgres refuse to run as root: as root, run them as Debian's `postgres` user.
pg_as() { if as_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_up() {
  local pgbin
  pgbin=$(pg_bin)
  if [ -z "$pgbin" ]; then
    as_root || die "PostgreSQL is not installed: sudo apt-get install -y postgresql"
    log "installing PostgreSQL (Debian postgresql)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
    pgbin=$(pg_bin)
  fi
  mkdir -p "$STATE/pgdata" "$STATE/pgrun"
  # The postgres user must reach the state dir (mkdtemp makes 0700 dirs).
  if as_root; then
    chmod 755 "$STATE"
    chown postgres: "$STATE/pgdata" "$STATE/pgrun"
    chmod 700 "$STATE/pgdata"
    runuser -u postgres -- test -x "$STATE/pgrun" ||
      die "the postgres user cannot reach $STATE (a parent directory is private): choose another SWITCHYARD_CLUSTER_DIR or make its parents world-executable (chmod o+x)"
  fi
  if [ ! -s "$STATE/pgdata/PG_VERSION" ]; then
    local pw=$STATE/pgrun/pw
    echo "$DB_PASSWORD" >"$pw"
    as_root && chown postgres: "$pw"
    pg_as "$pgbin/initdb" -D "$STATE/pgdata" -U "$DB_USER" --pwfile="$pw" -A scram-sha-256 -E UTF8 \
      --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 || { rm -f "$pw"; cat "$STATE/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pw"
  fi
  if ! pg_as "$pgbin/pg_ctl" -D "$STATE/pgdata" status >/dev/null 2>&1; then
    pg_as "$pgbin/pg_ctl" -D "$STATE/pgdata" -l "$STATE/pgrun/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $STATE/pgrun -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
      { tail -20 "$STATE/pgrun/postgres.log" >&2; die "PostgreSQL did not start (port $PG_PORT taken?)"; }
  fi
  log "PostgreSQL on 127.0.0.1:$PG_PORT (data $STATE/pgdata)"
}

pg_down() {
  local pgbin
  pgbin=$(pg_bin)
  [ -n "$pgbin" ] && [ -s "$STATE/pgdata/PG_VERSION" ] || return 0
  if pg_as "$pgbin/pg_ctl" -D "$STATE/pgdata" status >/dev/null 2>&1; then
    pg_as "$pgbin/pg_ctl" -D "$STATE/pgdata" -m fast -w stop >/dev/null
    log "PostgreSQL stopped"
  fi
}

# --- schemas -----------------------------------------------------------------------------------

# The sql tool embeds the schemas of its version: `update-schema` applies whatever versions the
# database lacks, so this is both the first setup and the upgrade step (a no-op when current).
schemas() {
  export SQL_PLUGIN=postgres12 SQL_HOST=127.0.0.1 SQL_PORT=$PG_PORT SQL_USER=$DB_USER SQL_PASSWORD=$DB_PASSWORD
  local db dir
  for pair in temporal:temporal temporal_visibility:visibility; do
    db=${pair%%:*}
    dir=${pair##*:}
    if ! PGPASSWORD=$DB_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d postgres -tAc \
      "select 1 from pg_database where datname='$db'" | grep -q 1; then
      "$BIN/temporal-sql-tool" --db "$db" create-database
    fi
    "$BIN/temporal-sql-tool" --db "$db" setup-schema -v 0.0
    "$BIN/temporal-sql-tool" --db "$db" update-schema --schema-name "postgresql/v12/$dir"
  done >"$STATE/schema.log" 2>&1 || { tail -20 "$STATE/schema.log" >&2; die "schema setup failed (log: $STATE/schema.log)"; }
  log "schemas temporal and temporal_visibility are current"
}

# --- Temporal server ---------------------------------------------------------------------------

temporal_cli() {
  local cli=${TEMPORAL_CLI_PATH:-$ROOT/.tools/temporal/bin/temporal}
  [ -x "$cli" ] || cli=$(command -v temporal || true)
  [ -n "$cli" ] || die "the temporal CLI is needed for health checks: npm run setup (installs .tools/temporal)"
  echo "$cli"
}

server_pid() { cat "$STATE/temporal.pid" 2>/dev/null || true; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

start_temporal() {
  alive "$(server_pid)" && { log "Temporal server already running (pid $(server_pid))"; return 0; }
  local cli t0=$SECONDS
  cli=$(temporal_cli)
  (
    cd "$CONFIG_DIR"
    # The same variables docker-compose.yml sets for the image, with this machine's values.
    exec env DB=postgres12 POSTGRES_SEEDS=127.0.0.1 DB_PORT="$PG_PORT" \
      POSTGRES_USER="$DB_USER" POSTGRES_PWD="$DB_PASSWORD" BIND_ON_IP=127.0.0.1 \
      NUM_HISTORY_SHARDS="${NUM_HISTORY_SHARDS:-4}" \
      FRONTEND_GRPC_PORT="$PORT" HISTORY_GRPC_PORT=$((PORT + 1)) MATCHING_GRPC_PORT=$((PORT + 2)) \
      WORKER_GRPC_PORT=$((PORT + 6)) FRONTEND_HTTP_PORT=$((PORT + 10)) \
      FRONTEND_MEMBERSHIP_PORT=$((PORT + 100)) HISTORY_MEMBERSHIP_PORT=$((PORT + 101)) \
      MATCHING_MEMBERSHIP_PORT=$((PORT + 102)) WORKER_MEMBERSHIP_PORT=$((PORT + 106)) \
      LOG_LEVEL="${LOG_LEVEL:-warn}" \
      "$BIN/temporal-server" --config-file config/temporal.yaml --allow-no-auth start
  ) >>"$STATE/temporal.log" 2>&1 &
  echo $! >"$STATE/temporal.pid"
  local pid=$!
  for _ in $(seq 1 480); do
    "$cli" operator cluster health --address "$ADDRESS" >/dev/null 2>&1 && break
    alive "$pid" || { tail -30 "$STATE/temporal.log" >&2; die "the Temporal server exited (log: $STATE/temporal.log)"; }
    sleep 0.25
  done
  "$cli" operator cluster health --address "$ADDRESS" >/dev/null 2>&1 ||
    die "the Temporal server did not answer on $ADDRESS within 120 s (log: $STATE/temporal.log)"
  # The server does not create namespaces; `default` is what Switchyard uses unless TEMPORAL_NAMESPACE says otherwise.
  local ns=${TEMPORAL_NAMESPACE:-default}
  "$cli" operator namespace describe -n "$ns" --address "$ADDRESS" >/dev/null 2>&1 ||
    "$cli" operator namespace create -n "$ns" --retention 72h --address "$ADDRESS" >/dev/null
  log "Temporal server $TEMPORAL_VERSION on $ADDRESS, namespace $ns (pid $pid, ready in $((SECONDS - t0)) s)"
}

stop_temporal() {
  local pid signal=TERM
  [ "${1:-}" = --kill ] && signal=KILL
  pid=$(server_pid)
  alive "$pid" || { rm -f "$STATE/temporal.pid"; return 0; }
  kill -s "$signal" "$pid"
  # After SIGKILL the PID lingers a moment: wait until it is really gone before a restart.
  for _ in $(seq 1 240); do alive "$pid" || break; sleep 0.25; done
  alive "$pid" && { kill -s KILL "$pid"; sleep 0.5; }
  rm -f "$STATE/temporal.pid"
  log "Temporal server stopped (SIG$signal, pid $pid)"
}

case "${1:-}" in
tools) tools ;;
up)
  mkdir -p "$STATE"
  tools
  pg_up
  schemas
  start_temporal
  echo "TEMPORAL_ADDRESS=$ADDRESS"
  ;;
down)
  stop_temporal
  pg_down
  ;;
start-temporal) start_temporal ;;
stop-temporal) stop_temporal "${2:-}" ;;
env) echo "TEMPORAL_ADDRESS=$ADDRESS" ;;
*)
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
