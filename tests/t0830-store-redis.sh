#!/usr/bin/env bash
# t0830-store-redis.sh — the cache invalidation of pd-store over TCP Redis
# URLs: redis://host:port/db (SELECT), redis://:password@host:port/db (AUTH),
# a wrong password and a server that went away (warnings, never a failed
# store).  Starts its own redis-server on a free loopback port.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP redis-server not installed"
	exit 0
fi
if ! store_db t0830_store; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
# a free loopback port; another process may take it before redis-server
# binds it, so a server that dies at start is tried again on another port
rpid=
trap '[ -z "$rpid" ] || { kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; }; store_db_drop; _tap_cleanup' EXIT
for _ in 1 2 3 4 5; do
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --requirepass s3cret \
		--daemonize no >"$TMP/redis.log" 2>&1 &
	rpid=$!
	for _ in $(seq 400); do		# at most ~20 s
		[ "$(redis-cli -p "$port" -a s3cret --no-auth-warning ping 2>/dev/null)" = PONG ] &&
			kill -0 $rpid 2>/dev/null && break 2
		kill -0 $rpid 2>/dev/null || break
		sleep 0.05
	done
	kill $rpid 2>/dev/null; wait $rpid 2>/dev/null
done
r() { redis-cli -p "$port" -a s3cret --no-auth-warning "$@"; }

gen_stream --videos 20 --dim 8 --seed 1 >"$TMP/in1"
gen_stream --videos 20 --dim 8 --seed 2 --variant 1 >"$TMP/in2"
gen_stream --videos 20 --dim 8 --seed 3 --variant 2 >"$TMP/in3"

IN=$TMP/in1 run env REDIS_URL="redis://:s3cret@127.0.0.1:$port/3" pd-store --no-passthrough
expect 'redis://:password@host:port/db: AUTH, SELECT 3, pd:gen bumped there' '
	check_status 0 && [ ! -s "$ERR" ] && test "$(r -n 3 get pd:gen)" = 1 &&
	test "$(r -n 0 get pd:gen)" = "" && tail -n 1 "$OUT" | jq -e ".cache_generation == 1"'
IN=$TMP/in1 run env REDIS_URL="redis://:s3cret@127.0.0.1:$port/3" pd-store --no-passthrough
expect 'the same input again changes nothing, so no new generation' '
	check_status 0 && test "$(r -n 3 get pd:gen)" = 1'
IN=$TMP/in2 run env REDIS_URL="redis://:wrong@127.0.0.1:$port/3" pd-store --no-passthrough
expect 'a wrong Redis password: a warning, the store succeeds, no secret shown' '
	check_status 0 && grep -q "pd-store: redis: AUTH: .*caches not invalidated" "$ERR" &&
	! grep -q wrong "$ERR" && test "$(r -n 3 get pd:gen)" = 1 &&
	test "$(q "select count(*) from discovery_runs")" = 2'
kill $rpid; wait $rpid 2>/dev/null
IN=$TMP/in3 run env REDIS_URL="redis://127.0.0.1:$port" pd-store --no-passthrough
expect 'Redis gone: a warning naming host:port, the store succeeds' '
	check_status 0 && grep -q "pd-store: redis: cannot connect to 127.0.0.1:$port: Connection refused" "$ERR" &&
	test "$(q "select count(*) from discovery_runs")" = 3'
IN=$TMP/in1 run env REDIS_URL="rediss://x" pd-store --no-passthrough
expect 'an unusable REDIS_URL: a warning, the store succeeds' '
	check_status 0 && grep -q "TLS (rediss://) is not supported" "$ERR"'

# two concurrent migrations on a fresh database: one applies, one waits
store_db_drop
store_db t0830_mig
pd-store --migrate >"$TMP/m1" 2>&1 & a=$!
pd-store --migrate >"$TMP/m2" 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
expect 'two --migrate at once: both succeed, the migration applied once' '
	test $ra = 0 && test $rb = 0 && test "$(q "select count(*) from schema_migrations")" = 4 &&
	test "$(cat "$TMP/m1" "$TMP/m2" | jq -s "map(.migrations_applied) | add")" = 4'

test_done
