# shellcheck shell=bash
# Common helpers for scripts/*.sh. Source it; do not execute it.
# Everything project-local lives under $LOCAL (.local/ in the repo root).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
ENV_FILE="$LOCAL/env"
VENV="$ROOT/.venv"

PG_PORT=55432
PG_DB=portal
REDIS_PORT=56379
EMU_PORT=8443
EMU_SMTP_PORT=2587
EMU_DNS_PORT=5354

say()  { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Is a TCP port on 127.0.0.1 accepting connections?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Is the pid in file $1 a live process (optionally whose cmdline contains $2)?
pidfile_alive() {
  local f="$1" pat="${2:-}" pid
  [ -s "$f" ] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "$pat" ] && [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pat" || return 1
  fi
  return 0
}

# Directory with the PostgreSQL server binaries (highest installed major version).
pg_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$d"
  done
  if [ -z "$best" ]; then
    # Non-Debian layouts: initdb on PATH.
    local i; i="$(command -v initdb 2>/dev/null || true)"
    [ -n "$i" ] && best="$(dirname "$(readlink -f "$i")")"
  fi
  [ -n "$best" ] && printf '%s\n' "$best"
}

# Run a command as the OS user that owns the PostgreSQL cluster
# (`postgres` when we are root, since initdb refuses to run as root).
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Serialize concurrent invocations (e.g. two `make` runs at once).
lock_local() {
  mkdir -p "$LOCAL"
  exec 9>"$LOCAL/.lock"
  if ! flock -w 120 9; then die "another scripts/*.sh holds $LOCAL/.lock for > 120 s"; fi
}

# Load .local/env into the current shell (exported).
load_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE missing; run 'make services-up' first"
  set -a
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  set +a
}

# Set KEY to VALUE in .local/env (replace an existing line, keep the rest).
env_set() {
  local key="$1" val="$2" tmp
  mkdir -p "$LOCAL"
  touch "$ENV_FILE"
  tmp="$(mktemp "$LOCAL/.env.XXXXXX")"
  grep -v -E "^export ${key}=" "$ENV_FILE" >"$tmp" || true
  printf "export %s='%s'\n" "$key" "$val" >>"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

env_unset() {
  local key="$1" tmp
  [ -f "$ENV_FILE" ] || return 0
  tmp="$(mktemp "$LOCAL/.env.XXXXXX")"
  grep -v -E "^export ${key}=" "$ENV_FILE" >"$tmp" || true
  chmod 644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}
