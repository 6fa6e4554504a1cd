#!/usr/bin/env bash
# t0900-services.sh — TAP test for scripts/pd-services.
#
# Starts a private PostgreSQL (with pgvector) and Redis in a fresh temporary
# directory, checks both answer through their unix sockets, that a second
# start is harmless, that stop really ends both processes, and that the
# stopped cluster starts again.  An EXIT trap stops everything and removes the
# directory, whatever happens.  Skips when the server binaries are missing.
set -u

PD_TOP=${PD_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
SVC=$PD_TOP/scripts/pd-services
# shellcheck disable=SC2016  # $$vector$$ is SQL dollar quoting, not shell
VECTOR_SQL='select extversion from pg_extension where extname=$$vector$$'

pgbin=$(pg_config --bindir 2>/dev/null || true)
[ -n "$pgbin" ] && [ -x "$pgbin/pg_ctl" ] || pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/pg_ctl" ] || ! command -v redis-server >/dev/null 2>&1 ||
   ! command -v redis-cli >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  echo "1..0 # SKIP PostgreSQL server, psql or Redis not installed"
  exit 0
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/t0900.XXXXXX")
OUT=$DIR/out ERR=$DIR/err   # outputs of the command under test
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  "$SVC" stop "$DIR" >/dev/null 2>&1
  rm -rf "$DIR"
}
trap cleanup EXIT

n=0
ok() {   # ok STATUS DESCRIPTION — STATUS 0 passes
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
check() {   # check DESCRIPTION COMMAND... — passes when COMMAND succeeds
  local d=$1; shift
  "$@"; ok $? "$d"
}
diag() { sed 's/^/# /' "$@"; }

# A pid is alive when its process exists and is not a zombie.
alive() {
  local st
  [ -n "$1" ] || return 1
  if [ -r "/proc/$1/stat" ]; then
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$st" != Z ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}
pg_pid()    { head -n 1 "$DIR/pg/data/postmaster.pid" 2>/dev/null; }
redis_pid() { head -n 1 "$DIR/redis.pid" 2>/dev/null; }

echo "1..20"

# --- usage ------------------------------------------------------------------
"$SVC" --help >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "--help exits 0"
check "--help prints usage on stdout" grep -q '^Usage: pd-services' "$OUT"

"$SVC" start >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 2 )) "missing DIR is a usage error (exit 2)"
check "usage error points to --help on stderr" \
  grep -qx "Try 'pd-services --help' for more information." "$ERR"

# --- start ------------------------------------------------------------------
"$SVC" start "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "start exits 0"
[ "$rc" -eq 0 ] || diag "$ERR"
cat >"$DIR/expected" <<EOF
export DATABASE_URL='postgresql://postgres@/pd?host=$DIR/pg'
export REDIS_URL='unix://$DIR/redis.sock'
EOF
check "start prints the export lines" cmp -s "$DIR/expected" "$OUT"
"$SVC" env "$DIR" >"$DIR/env.out" 2>"$ERR"
check "env prints the same lines" cmp -s "$DIR/expected" "$DIR/env.out"

eval "$(cat "$OUT")"
v=$(psql "$DATABASE_URL" -X -Atc "$VECTOR_SQL" 2>"$ERR")
ok $(( $? != 0 )) "psql reaches database pd through DATABASE_URL"
check "extension vector is installed (version '$v')" test -n "$v"
la=$(psql "$DATABASE_URL" -X -Atc 'show listen_addresses' 2>"$ERR")
check "PostgreSQL listens on no TCP address" test "$la" = ""
pong=$(redis-cli -s "$DIR/redis.sock" ping 2>"$ERR")
check "redis-cli ping gives PONG" test "$pong" = PONG

"$SVC" status "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "status exits 0 when both run"

# --- start again: harmless, same servers ---------------------------------------
pg1=$(pg_pid) r1=$(redis_pid)
"$SVC" start "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "second start exits 0"
same=1
[ -n "$pg1" ] && [ "$pg1" = "$(pg_pid)" ] && [ -n "$r1" ] && [ "$r1" = "$(redis_pid)" ] &&
  cmp -s "$DIR/expected" "$OUT" && same=0
ok $same "second start keeps the same servers and prints the same lines"

# --- stop -----------------------------------------------------------------------
"$SVC" stop "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "stop exits 0"
gone=0
alive "$pg1" && { echo "# postgres pid $pg1 still alive"; gone=1; }
alive "$r1" && { echo "# redis pid $r1 still alive"; gone=1; }
if [ -z "$pg1" ] || [ -z "$r1" ]; then echo "# pids unknown (pg '$pg1', redis '$r1')"; gone=1; fi
ok $gone "stop ends both processes"

"$SVC" status "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 1 )) "status exits 1 when stopped"
"$SVC" stop "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "stop when not running exits 0"

# --- start again after stop: the cluster persists ----------------------------------
"$SVC" start "$DIR" >"$OUT" 2>"$ERR"; rc=$?
ok $(( rc != 0 )) "start after stop exits 0"
[ "$rc" -eq 0 ] || diag "$ERR"
v=$(psql "$DATABASE_URL" -X -Atc "$VECTOR_SQL" 2>"$ERR")
check "database pd with vector is back after restart" test -n "$v"

exit 0
