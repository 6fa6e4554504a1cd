# shellcheck shell=bash
# services.sh — sourceable helper: give a test script a PostgreSQL (pgvector)
# and a Redis to talk to.
#
# Why: the test runner normally starts private services once for the whole run
# (scripts/pd-services) and exports DATABASE_URL and REDIS_URL; a test script
# run on its own still needs them, so it falls back to starting its own.
#
#   . "$PD_TOP/tests/lib/services.sh"
#   pd_services_up || { echo "1..0 # SKIP no database/redis"; exit 0; }
#   ... use "$DATABASE_URL" and "$REDIS_URL" ...
#
# pd_services_up
#   Does nothing (returns 0) when DATABASE_URL and REDIS_URL are both set and
#   reachable.  Otherwise starts private services in a new temporary directory
#   under ${TMPDIR:-/tmp}, exports DATABASE_URL and REDIS_URL, and chains
#   pd_services_down in front of the current EXIT trap.  Returns non-zero
#   (pd-services' status, 3 for a service failure) when they cannot be started.
# pd_services_down
#   Stops and removes what pd_services_up started; a no-op otherwise, and safe
#   to call more than once.  If you set your own EXIT trap AFTER calling
#   pd_services_up, it replaces the chained one: call pd_services_down in it.
#
# Progress goes to stderr, so stdout stays clean for TAP.

PD_SERVICES_DIR=${PD_SERVICES_DIR:-}   # set while we own running services

_pd_services_script() {
  local top=${PD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
  printf '%s/scripts/pd-services\n' "$top"
}

# True when DATABASE_URL and REDIS_URL are set and both answer.
_pd_services_reachable() {
  [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ] || return 1
  PGCONNECT_TIMEOUT=5 psql -X -q -Atc 'SELECT 1' "$DATABASE_URL" >/dev/null 2>&1 || return 1
  local pong
  case "$REDIS_URL" in
    unix://*)              # unix:///path/to.sock[?db=N]
      local sock=${REDIS_URL#unix://}
      pong=$(redis-cli -s "${sock%%\?*}" ping 2>/dev/null) ;;
    *)
      pong=$(redis-cli -u "$REDIS_URL" ping 2>/dev/null) ;;
  esac
  [ "$pong" = PONG ]
}

pd_services_up() {
  if _pd_services_reachable; then
    return 0
  fi
  if [ -n "$PD_SERVICES_DIR" ]; then   # ours, but not answering: restart them
    pd_services_down
  fi
  # Unix socket paths are limited to ~107 bytes: avoid a very long TMPDIR.
  local base=${TMPDIR:-/tmp}
  [ "${#base}" -le 60 ] || base=/tmp
  local dir out rc=0
  dir=$(mktemp -d "$base/pd-services.XXXXXX") || return 3
  out=$("$(_pd_services_script)" start "$dir") || rc=$?
  if [ "$rc" -ne 0 ]; then
    "$(_pd_services_script)" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
    return "$rc"
  fi
  eval "$out"            # export DATABASE_URL=... REDIS_URL=...
  PD_SERVICES_DIR=$dir

  # Chain our cleanup in front of whatever EXIT trap is already set.
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then
    eval "set -- $prev"  # trap -- 'COMMAND' EXIT
    # shellcheck disable=SC2064  # expand the previous command now, on purpose
    trap "pd_services_down; $3" EXIT
  else
    trap pd_services_down EXIT
  fi
  return 0
}

pd_services_down() {
  [ -n "${PD_SERVICES_DIR:-}" ] || return 0
  local dir=$PD_SERVICES_DIR
  PD_SERVICES_DIR=
  "$(_pd_services_script)" stop "$dir" >/dev/null || true
  rm -rf "$dir"
  return 0
}
