#!/usr/bin/env bash
# Project-local PostgreSQL + Redis.
#   scripts/services.sh up      start (idempotent) and write .local/env
#   scripts/services.sh down    stop what `up` started (nothing else)
#   scripts/services.sh status
# If DATABASE_URL / REDIS_URL are set in the environment (to anything other than
# the project-local defaults), that service is not started and the given URL is used.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOCAL_DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
LOCAL_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
PG_DIR="$LOCAL/pg"
REDIS_DIR="$LOCAL/redis"
REDIS_PID="$REDIS_DIR/redis.pid"

want_local_pg()    { [ -z "${DATABASE_URL:-}" ] || [ "${DATABASE_URL}" = "$LOCAL_DB_URL" ]; }
want_local_redis() { [ -z "${REDIS_URL:-}" ] || [ "${REDIS_URL}" = "$LOCAL_REDIS_URL" ]; }

# ---------------------------------------------------------------- PostgreSQL
# Real path of .local/pg (it may be a symlink, see pg_prepare_dir): the `postgres`
# user must never have to walk through the repo path.
pg_home() { readlink -f "$PG_DIR" 2>/dev/null || printf '%s' "$PG_DIR"; }
pg_data() { printf '%s/data' "$(pg_home)"; }

pg_running() {
  local bin="$1"
  [ -f "$(pg_data)/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$(pg_data)" status >/dev/null 2>&1
}

# As root the cluster belongs to `postgres`, which must be able to reach .local/pg.
# If it cannot (e.g. a clone under /root, mode 700), keep the cluster in
# /var/tmp/portal-pg-<hash> and make .local/pg a symlink to it.
pg_prepare_dir() {
  mkdir -p "$LOCAL"
  if [ -L "$PG_DIR" ] || [ -d "$PG_DIR" ]; then :; else
    mkdir -p "$PG_DIR"
  fi
  if is_root; then
    getent passwd postgres >/dev/null ||
      die "running as root but there is no 'postgres' OS user (install the postgresql package: make setup)"
    chown postgres:postgres "$(pg_home)" 2>/dev/null || true
    if ! runuser -u postgres -- test -w "$(pg_home)" 2>/dev/null; then
      local alt; alt="/var/tmp/portal-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
      warn "user 'postgres' cannot reach $PG_DIR; keeping the cluster in $alt (symlinked)"
      [ -L "$PG_DIR" ] || rmdir "$PG_DIR" 2>/dev/null || die "$PG_DIR is not empty and not reachable by 'postgres'"
      mkdir -p "$alt"
      chown postgres:postgres "$alt"
      chmod 700 "$alt"
      ln -sfn "$alt" "$PG_DIR"
    fi
  fi
}

pg_up() {
  local bin; bin="$(pg_bindir)" || true
  [ -n "$bin" ] || die "PostgreSQL server binaries not found (expected /usr/lib/postgresql/*/bin/initdb). Run 'make setup' (apt package: postgresql)."
  pg_prepare_dir
  local home; home="$(pg_home)"
  local data="$home/data" sock="$home/sock"

  if [ ! -f "$data/PG_VERSION" ]; then
    say "postgres: initdb $data (PostgreSQL $("$bin/initdb" --version | awk '{print $3}'))"
    as_pg mkdir -p "$data" "$sock"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 ||
      { cat "$home/initdb.log" >&2; die "initdb failed (log: $home/initdb.log)"; }
    # Unix socket paths are limited to 107 bytes; fall back to TCP-only if the path is too deep.
    local sockdir="$sock"
    [ "${#sock}" -le 90 ] || sockdir=""
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<CONF

# ---- project-local dev/test cluster (scripts/services.sh) ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockdir'
fsync = off                 # dev/test only: no crash safety
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  fi
  as_pg mkdir -p "$sock"

  if pg_running "$bin"; then
    say "postgres: already running on 127.0.0.1:$PG_PORT"
  else
    if port_open "$PG_PORT"; then
      die "port $PG_PORT is in use by something that is not this project's cluster ($data). Stop it or set DATABASE_URL."
    fi
    say "postgres: starting on 127.0.0.1:$PG_PORT"
    # Memory and WAL sized like a small managed server (Azure Database for
    # PostgreSQL gives shared_buffers a quarter of RAM), not the 128 MB default:
    # analytics ingestion writes a million index entries a minute, and with the
    # defaults the backends spend their time evicting dirty pages and waiting on
    # checkpoints forced every 1 GB of WAL. Command-line settings, so clusters
    # created before this line get them too.
    as_pg "$bin/pg_ctl" -D "$data" -l "$home/server.log" -w -t 60 \
      -o "-c shared_buffers=1GB -c max_wal_size=8GB" start >/dev/null 9>&- ||
      { tail -n 30 "$home/server.log" >&2 || true; die "PostgreSQL failed to start (log: $home/server.log)"; }
  fi

  local psql="$bin/psql"; [ -x "$psql" ] || psql="psql"
  if [ "$(as_pg "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
          "select 1 from pg_database where datname='$PG_DB'")" != "1" ]; then
    say "postgres: creating database $PG_DB"
    as_pg "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "create database $PG_DB" >/dev/null
  fi
}

pg_down() {
  local bin; bin="$(pg_bindir)" || true
  if [ -z "$bin" ] || [ ! -f "$(pg_data)/PG_VERSION" ]; then
    say "postgres: no project cluster"; return 0
  fi
  if pg_running "$bin"; then
    say "postgres: stopping"
    as_pg "$bin/pg_ctl" -D "$(pg_data)" -m fast -w -t 60 stop >/dev/null
  else
    say "postgres: not running"
  fi
}

# --------------------------------------------------------------------- Redis
redis_running() { pidfile_alive "$REDIS_PID" redis-server; }

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
  else
    port_open "$REDIS_PORT"
  fi
}

redis_up() {
  command -v redis-server >/dev/null 2>&1 ||
    die "redis-server not found. Run 'make setup' (apt package: redis-server)."
  mkdir -p "$REDIS_DIR"
  if redis_running; then
    say "redis: already running on 127.0.0.1:$REDIS_PORT"
  else
    port_open "$REDIS_PORT" &&
      die "port $REDIS_PORT is in use by something this project did not start. Stop it or set REDIS_URL."
    say "redis: starting on 127.0.0.1:$REDIS_PORT"
    rm -f "$REDIS_PID"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --daemonize yes --pidfile "$REDIS_PID" --dir "$REDIS_DIR" \
      --logfile "$REDIS_DIR/redis.log" >/dev/null 9>&-
  fi
  local i
  for i in $(seq 1 100); do
    redis_ping && return 0
    sleep 0.1
  done
  tail -n 20 "$REDIS_DIR/redis.log" >&2 || true
  die "redis did not answer on 127.0.0.1:$REDIS_PORT (log: $REDIS_DIR/redis.log)"
}

redis_down() {
  if redis_running; then
    say "redis: stopping"
    local pid; pid="$(tr -dc '0-9' <"$REDIS_PID")"
    kill -TERM "$pid"
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
    rm -f "$REDIS_PID"
  else
    say "redis: not running"
  fi
}

# ---------------------------------------------------------------------- main
cmd="${1:-up}"
case "$cmd" in
  up)
    lock_local
    if want_local_pg; then pg_up; db_url="$LOCAL_DB_URL"
    else say "postgres: using DATABASE_URL from the environment (not starting one)"; db_url="$DATABASE_URL"; fi
    if want_local_redis; then redis_up; redis_url="$LOCAL_REDIS_URL"
    else say "redis: using REDIS_URL from the environment (not starting one)"; redis_url="$REDIS_URL"; fi
    env_set DATABASE_URL "$db_url"
    env_set REDIS_URL "$redis_url"
    say "services up; env in ${ENV_FILE#"$ROOT"/} (DATABASE_URL=$db_url REDIS_URL=$redis_url)"
    ;;
  down)
    lock_local
    pg_down
    redis_down
    ;;
  status)
    bin="$(pg_bindir)" || true
    if [ -n "$bin" ] && pg_running "$bin"; then echo "postgres: running (127.0.0.1:$PG_PORT)"; else echo "postgres: stopped"; fi
    if redis_running; then echo "redis: running (127.0.0.1:$REDIS_PORT)"; else echo "redis: stopped"; fi
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
