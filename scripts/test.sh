#!/usr/bin/env bash
# Behind `make test` (after setup + services-up): every check runs; exit non-zero if any failed.
#   PYTEST_ARGS="-k foo -x" make test     extra pytest arguments
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
load_env
# Tests start their own emulators; don't leak a `make run` emulator into them.
unset AZURE_TARGET AZURE_EMULATOR_URL AZURE_CA_BUNDLE EMULATOR_DNS EMULATOR_SMTP

failed=()
step() {  # step <name> <command...>
  local name="$1"; shift
  say "$name"
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    failed+=("$name (exit $rc)")
    printf 'FAILED: %s (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - t0))" >&2
  fi
  return 0
}

step "compilemessages" bash scripts/run.sh compilemessages
step "ruff check" "$VENV/bin/ruff" check --output-format=concise .
step "ruff format --check" "$VENV/bin/ruff" format --check .
step "makemigrations --check" env DJANGO_SETTINGS_MODULE=portal.test_settings \
  "$VENV/bin/python" manage.py makemigrations --check --dry-run
# shellcheck disable=SC2086  # PYTEST_ARGS is word-split on purpose
say "pytest ${PYTEST_ARGS:-}"
t0=$SECONDS
rc=0
"$VENV/bin/pytest" ${PYTEST_ARGS:-} || rc=$?
case "$rc" in
  0) ;;
  5) failed+=("pytest (exit 5: no tests collected - a broken suite counts as a failure)") ;;
  *) failed+=("pytest (exit $rc)") ;;
esac
say "pytest took $((SECONDS - t0)) s"

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nmake test FAILED:\n' >&2
  printf '  - %s\n' "${failed[@]}" >&2
  exit 1
fi
say "make test: all checks passed"
