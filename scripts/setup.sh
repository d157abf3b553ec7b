#!/usr/bin/env bash
# Idempotent machine + project set-up:
#   1. apt-get install the system packages that are missing (only those),
#   2. create .venv (python3.11, else python3 >= 3.11),
#   3. pip install -r requirements.txt when it changed (stamp .venv/.requirements.sha256).
# Set SKIP_APT=1 to skip step 1 (then missing packages are only reported).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# ------------------------------------------------------------ system packages
missing=()
need_pkg() {  # need_pkg <apt package> <check command...>
  local pkg="$1"; shift
  "$@" >/dev/null 2>&1 || missing+=("$pkg")
}
dpkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have()    { command -v "$1"; }
have_pg() { [ -n "$(pg_bindir)" ]; }
have_chromium() { have chromium || have chromium-browser || have google-chrome; }
have_py311() {
  local p
  for p in python3.11 python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    "$p" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && return 0
  done
  return 1
}

need_pkg postgresql            have_pg
need_pkg redis-server          have redis-server
need_pkg chromium              have_chromium
need_pkg fonts-ipaexfont-gothic dpkg_ok fonts-ipaexfont-gothic
need_pkg fonts-noto-cjk        dpkg_ok fonts-noto-cjk
need_pkg poppler-utils         have pdftoppm
need_pkg poppler-data          dpkg_ok poppler-data
need_pkg libharfbuzz-subset0   dpkg_ok libharfbuzz-subset0
need_pkg gettext               have msgfmt
if ! have_py311; then missing+=(python3 python3-venv); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${SKIP_APT:-0}" = "1" ]; then
    warn "SKIP_APT=1: not installing missing system packages: ${missing[*]}"
  else
    SUDO=()
    if ! is_root; then
      if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n)
      else die "missing system packages: ${missing[*]}. Not root and no passwordless sudo: install them with apt-get (or run 'make setup' as root)."; fi
    fi
    command -v apt-get >/dev/null 2>&1 ||
      die "missing system packages: ${missing[*]}. apt-get is not available on this machine; install the equivalents by hand."
    export DEBIAN_FRONTEND=noninteractive
    say "apt: installing ${missing[*]}"
    t0=$SECONDS
    "${SUDO[@]}" apt-get update -qq || die "apt-get update failed (missing: ${missing[*]})"
    # Ubuntu has no usable `chromium` deb (snap shim); keep going without it there.
    pkgs=()
    for p in "${missing[@]}"; do
      if [ "$p" = chromium ] && ! apt-cache show chromium >/dev/null 2>&1; then
        warn "apt has no 'chromium' package here; browser tests need a Chromium at /usr/bin/chromium"
        continue
      fi
      pkgs+=("$p")
    done
    if [ "${#pkgs[@]}" -gt 0 ]; then
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$ROOT/.apt-install.log" 2>&1 ||
        { tail -n 40 "$ROOT/.apt-install.log" >&2; die "apt-get install failed for: ${pkgs[*]} (log: .apt-install.log)"; }
      rm -f "$ROOT/.apt-install.log"
    fi
    say "apt: done in $((SECONDS - t0)) s"
  fi
else
  say "system packages: all present"
fi

# ----------------------------------------------------------------------- venv
pick_python() {
  local p
  for p in python3.11 python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      printf '%s\n' "$p"; return 0
    fi
  done
  return 1
}

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  :
else
  py="$(pick_python)" || die "no Python >= 3.11 with venv/ensurepip found (tried python3.11, python3); apt package: python3-venv"
  [ -e "$VENV" ] && { warn ".venv is broken or too old; recreating"; rm -rf "$VENV"; }
  say "venv: creating .venv with $("$py" --version 2>&1) ($(command -v "$py"))"
  "$py" -m venv "$VENV"
fi

[ -f "$ROOT/requirements.txt" ] || die "requirements.txt not found in $ROOT"
want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  say "pip: installing requirements.txt into .venv"
  t0=$SECONDS
  # (the filter drops a harmless warning some pip configs print once per package)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  printf '%s\n' "$want" >"$stamp"
  say "pip: done in $((SECONDS - t0)) s"
else
  say "pip: requirements.txt unchanged"
fi
