#!/usr/bin/env bash
# The local Azure emulator as a background process.
#   scripts/emulator.sh up      start (idempotent), wait until ready, add its settings to .local/env
#   scripts/emulator.sh down    stop it (only the one started here, by pidfile)
#   scripts/emulator.sh status
# EMULATOR_TIMEOUT (seconds, default 30) bounds the wait for readiness.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STATE="$LOCAL/emulator"
LOG="$LOCAL/emulator.log"
PIDFILE="$LOCAL/emulator.pid"
CA="$STATE/ca.pem"
TIMEOUT="${EMULATOR_TIMEOUT:-30}"
ENV_KEYS=(AZURE_TARGET AZURE_EMULATOR_URL AZURE_CA_BUNDLE EMULATOR_DNS EMULATOR_SMTP)

running() { pidfile_alive "$PIDFILE" "emulator serve"; }

tls_ok() {  # TLS handshake on 127.0.0.1:$EMU_PORT succeeds
  port_open "$EMU_PORT" || return 1
  "$VENV/bin/python" - "$EMU_PORT" <<'PY' >/dev/null 2>&1
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    with ctx.wrap_socket(s, server_hostname="127.0.0.1"):
        pass
PY
}

ready() {
  [ -f "$CA" ] || return 1
  grep -q 'emulator ready' "$LOG" 2>/dev/null || tls_ok
}

write_env() {
  env_set AZURE_TARGET emulator
  env_set AZURE_EMULATOR_URL "https://127.0.0.1:$EMU_PORT"
  env_set AZURE_CA_BUNDLE "$CA"
  env_set EMULATOR_DNS "127.0.0.1:$EMU_DNS_PORT"
  env_set EMULATOR_SMTP "127.0.0.1:$EMU_SMTP_PORT"
}

stop_pid() {
  local pid="$1" i
  # started with setsid: it leads its own process group, so signal the group
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

up() {
  [ -x "$VENV/bin/python" ] || die ".venv missing; run 'make setup' first"
  if running; then
    if ready; then
      say "emulator: already running (pid $(cat "$PIDFILE")) on https://127.0.0.1:$EMU_PORT"
      write_env; return 0
    fi
    say "emulator: running (pid $(cat "$PIDFILE")) but not ready yet; waiting"
  else
    "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("emulator.__main__") is None)' 2>/dev/null ||
      die "the emulator package is not runnable yet (no emulator/__main__.py in $ROOT); cannot start it"
    port_open "$EMU_PORT" &&
      die "port $EMU_PORT is already in use by a process this project did not start (not stopping it)"
    mkdir -p "$STATE"
    rm -f "$PIDFILE"
    say "emulator: starting (log: ${LOG#"$ROOT"/})"
    : >"$LOG"
    setsid "$VENV/bin/python" -m emulator serve --host 127.0.0.1 --port "$EMU_PORT" --state "$STATE" \
      --smtp-port "$EMU_SMTP_PORT" --dns-port "$EMU_DNS_PORT" --admin \
      >>"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
  fi
  local pid deadline
  pid="$(cat "$PIDFILE")"
  deadline=$((SECONDS + TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      echo "---- last lines of $LOG ----" >&2; tail -n 30 "$LOG" >&2 || true
      die "emulator exited during start-up (see $LOG)"
    fi
    if ready; then
      say "emulator: ready on https://127.0.0.1:$EMU_PORT (pid $pid; CA $CA)"
      write_env; return 0
    fi
    sleep 0.2
  done
  echo "---- last lines of $LOG ----" >&2; tail -n 30 "$LOG" >&2 || true
  stop_pid "$pid"; rm -f "$PIDFILE"
  die "emulator not ready within ${TIMEOUT}s (no 'emulator ready' line / TLS on :$EMU_PORT / $CA); stopped it"
}

down() {
  if running; then
    say "emulator: stopping (pid $(cat "$PIDFILE"))"
    stop_pid "$(tr -dc '0-9' <"$PIDFILE")"
  else
    say "emulator: not running"
  fi
  rm -f "$PIDFILE"
  local k; for k in "${ENV_KEYS[@]}"; do env_unset "$k"; done
}

case "${1:-up}" in
  up)     lock_local; up ;;
  down)   lock_local; down ;;
  status) if running; then echo "emulator: running (pid $(cat "$PIDFILE"))"; else echo "emulator: stopped"; fi ;;
  *)      die "usage: $0 up|down|status" ;;
esac
