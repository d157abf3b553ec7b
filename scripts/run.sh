#!/usr/bin/env bash
# Helpers behind `make run` / `make stop` / `make bench`.
#   scripts/run.sh prepare   compilemessages + migrate_schemas (shared, then tenants) + seed_demo
#   scripts/run.sh serve     exec honcho (web, worker, beat) in the foreground
#   scripts/run.sh stop      stop a leftover honcho started by `serve` (by pidfile)
#   scripts/run.sh bench     run bench/run.py with .local/env loaded
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

HONCHO_PID="$LOCAL/honcho.pid"
PY="$VENV/bin/python"

# Django's compilemessages walks every `locale` dir below the cwd, so skip the
# venv and other non-project trees. Does nothing if the project has no locale dir.
compilemessages() {
  local found
  found="$(find . \( -path ./.venv -o -path ./.local -o -path ./node_modules -o -path ./.git \) -prune \
           -o -type d -name locale -print -quit)"
  if [ -z "$found" ]; then say "compilemessages: no locale dir (skipped)"; return 0; fi
  "$PY" manage.py compilemessages --ignore=.venv --ignore=.local --ignore=node_modules --ignore=.git -v 0
}

case "${1:-}" in
  prepare)
    load_env
    [ -f manage.py ] || die "manage.py not found in $ROOT"
    say "compilemessages"
    compilemessages
    say "migrate_schemas --shared"
    "$PY" manage.py migrate_schemas --shared -v 0
    say "migrate_schemas --tenant (multiprocessing executor)"
    "$PY" manage.py migrate_schemas --tenant --executor=multiprocessing -v 0
    say "portal_init (public tenant + template schema)"
    "$PY" manage.py portal_init
    # Demo installs relax mandatory TOTP so the demo logins work at once; set
    # PORTAL_MFA_REQUIRED=true before `make run` to see the enforced flow.
    env_set PORTAL_MFA_REQUIRED "${PORTAL_MFA_REQUIRED:-false}"
    load_env
    say "portal_mail_setup (the portal's own ACS resource in the emulator)"
    "$PY" manage.py portal_mail_setup
    say "seed_demo"
    "$PY" manage.py seed_demo
    ;;
  serve)
    load_env
    export PYTHONUNBUFFERED=1
    if pidfile_alive "$HONCHO_PID" honcho; then
      die "honcho already running (pid $(cat "$HONCHO_PID")); 'make stop' first"
    fi
    port_open 8000 && die "port 8000 is already in use; is another 'make run' or runserver going?"
    echo $$ >"$HONCHO_PID"
    exec 9>&-
    exec "$VENV/bin/honcho" start -f "$ROOT/Procfile" -d "$ROOT"
    ;;
  stop)
    if pidfile_alive "$HONCHO_PID" honcho; then
      pid="$(tr -dc '0-9' <"$HONCHO_PID")"
      say "honcho: stopping (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { warn "honcho did not exit; killing"; kill -KILL "$pid" || true; }
    else
      say "honcho: not running"
    fi
    rm -f "$HONCHO_PID"
    ;;
  compilemessages)
    load_env; compilemessages ;;
  bench)
    load_env
    [ -f bench/run.py ] || die "bench/run.py not found"
    exec "$PY" bench/run.py "${@:2}"
    ;;
  *) die "usage: $0 prepare|serve|stop|compilemessages|bench" ;;
esac
