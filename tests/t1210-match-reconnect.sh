#!/usr/bin/env bash
# t1210-match-reconnect.sh — a long-running pd-match (a coprocess answering
# each line) that loses Redis: it goes on answering, picks up new runs that
# pd-store stores meanwhile from PostgreSQL's active run (Redis cannot say,
# and pd-store could not bump the generation), reconnects when Redis is back
# (said once each way on stderr) and uses the cache and the generation
# again.  A private redis-server on its own TCP port, killed and restarted
# here; the database is tests/run's PostgreSQL.  Every wait is a poll with a
# bound (no fixed sleeps), and the restarted server holds none of the
# coprocess's pipes (tests/lib/coproc.sh).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"
. "$(dirname "$0")/lib/coproc.sh"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "1..0 # SKIP no redis-server"
	exit 0
fi
if ! store_db t1210_reconnect; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
RPID=
redis_stop() {
	[ -n "$RPID" ] || return 0
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
}
trap 'redis_stop; [ -n "$COP_PID" ] && kill "$COP_PID" 2>/dev/null; store_db_drop; _tap_cleanup' EXIT

EX=$PD_TOP/examples
P=$EX/match-patterns.ndjson
C=$EX/match-clusters.ndjson
grep '"type":"video"' "$EX/match-videos.ndjson" >"$TMP/videos.ndjson"
mkdir -p "$TMP/redis"

# redis_start: a redis-server on $RPORT (a free one picked the first time),
# no persistence; it holds none of the coprocess's descriptors (closed for
# it), so the coprocess still sees the end of its input.  1 when it does not
# answer within ~10 s.
RPORT=
redis_start() {
	local try i
	for try in 1 2 3 4 5 6 7 8; do
		local port=${RPORT:-$((20000 + RANDOM % 20000))}
		if [ -z "$RPORT" ] && redis-cli -p "$port" ping >/dev/null 2>&1; then
			continue	# taken
		fi
		if [ -n "$COP_IN" ]; then
			redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
				--dir "$TMP/redis" >>"$TMP/redis/log" 2>&1 {COP_IN}>&- {COP_OUT}<&- &
		else
			redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
				--dir "$TMP/redis" >>"$TMP/redis/log" 2>&1 &
		fi
		RPID=$!
		for i in $(seq 200); do
			if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
				RPORT=$port
				return 0
			fi
			kill -0 "$RPID" 2>/dev/null || break	# it could not bind: another port
			sleep 0.05
		done
		redis_stop
		[ -n "$RPORT" ] && return 1
	done
	return 1
}
rcli() { redis-cli -p "$RPORT" "$@"; }

if ! redis_start; then
	echo "1..0 # SKIP redis-server does not start"
	exit 0
fi
export REDIS_URL=redis://127.0.0.1:$RPORT/0

# store RUN: the example run with its pattern ids suffixed -RUN (A: as they are)
store() {
	local f=$TMP/run-$1.ndjson
	if [ "$1" = A ]; then cp "$P" "$f"; else
		jq -c 'if .type == "pattern" then .id += "-'"$1"'" else . end' "$P" >"$f"
	fi
	pd-store --no-passthrough "$C" "$f" "$TMP/videos.ndjson" >/dev/null 2>"$TMP/store-$1.err"
}
ask() { cop_send "$1"; cop_recv ans; }
ids() { jq -c '[.matches[].pattern_id]' <<<"$ans" 2>/dev/null; }
now() { date +%s.%N; }
since() { echo "$1" | awk -v t="$(now)" '{ printf "%.2f", t - $1 }'; }
# until_ids WANT [MAX]: ask about v1 (0.1 s apart) until its patterns are WANT
until_ids() {
	local n=0 max=${2:-300}
	got=
	while [ $n -lt "$max" ]; do
		ask '{"type":"video","id":"v1"}'
		n=$((n + 1))
		[ -n "$ans" ] || { got='(no answer: the coprocess is gone)'; return 1; }
		got=$(ids)
		[ "$got" = "$1" ] && { asks=$n; return 0; }
		sleep 0.1
	done
	asks=$n
	return 1
}
lost() { grep -c 'without the cache' "$TMP/cp.err"; }
back() { grep -c 'connected again' "$TMP/cp.err"; }

store A
expect 'run A stored with Redis up (the generation bumped)' \
	'test "$(rcli get pd:gen)" -ge 1 && test ! -s "$TMP/store-A.err"'
cop_start "$TMP/cp.err" pd-match --group --unbuffered
ask '{"type":"video","id":"v1"}'
expect 'the coprocess answers from run A' 'test "$(ids)" = "[\"p-howto\",\"p-mid\",\"p-question\"]"'

# ---- Redis goes away and stays away: new runs come from PostgreSQL ----
redis_stop
store B
store C
t0=$(now)
until_ids '["p-howto-C","p-mid-C","p-question-C"]'
seen=$?
echo "# Redis down: run C answered $(since "$t0") s after it was stored ($asks questions)"
expect 'Redis down: two runs stored meanwhile (pd-store could not invalidate), the newest answers' '
	echo "got $got after $asks questions" && test $seen = 0 &&
	grep -q "caches not invalidated" "$TMP/store-C.err"'
expect 'Redis down: said once on stderr, nothing else' '
	cat "$TMP/cp.err"; test "$(lost)" = 1 && test "$(back)" = 0 && test "$(wc -l <"$TMP/cp.err")" = 1'

# ---- two more runs while it is away, then Redis is back ----
store D
store E
redis_start || echo "# redis-server did not start again"
t0=$(now)
until_ids '["p-howto-E","p-mid-E","p-question-E"]'
seen=$?
echo "# Redis back: run E answered $(since "$t0") s after the restart ($asks questions)"
expect 'Redis back: the newest of the runs stored while it was down answers' '
	echo "got $got after $asks questions" && test $seen = 0'
n=0
while [ "$(back)" = 0 ] && [ $n -lt 150 ]; do
	ask '{"type":"video","id":"v1"}'
	n=$((n + 1))
	[ -n "$ans" ] || break
	sleep 0.1
done
echo "# Redis back: reconnected $(since "$t0") s after the restart"
# the answer cache is written after each answer: wait for its keys
n=0
until [ -n "$(rcli --scan --pattern 'pd:match:*:v1')" ] || [ $n -ge 100 ]; do
	ask '{"type":"video","id":"v1"}'
	n=$((n + 1))
	sleep 0.1
done
expect 'Redis back: said once, and the cache is written again' '
	cat "$TMP/cp.err"; test "$(back)" = 1 && test "$(lost)" = 1 &&
	test -n "$(rcli --scan --pattern "pd:match:*:v1")" &&
	test -n "$(rcli --scan --pattern "pd:emb:*:v1")"'

# ---- Redis up again: a run stored now bumps the generation, which is followed ----
store F
expect 'a run stored after the return bumps the new server'"'"'s generation' \
	'test "$(rcli get pd:gen)" = 1 && test ! -s "$TMP/store-F.err"'
t0=$(now)
until_ids '["p-howto-F","p-mid-F","p-question-F"]'
seen=$?
echo "# Redis up: run F answered $(since "$t0") s after it was stored ($asks questions)"
expect 'after the return, a new generation reloads the patterns' '
	echo "got $got after $asks questions" && test $seen = 0'
cop_stop; COP_PID=
expect 'the coprocess ends cleanly at the end of its input, one loss and one return said' '
	test "$COP_STATUS" = 0 && test "$(lost)" = 1 && test "$(back)" = 1 &&
	test "$(wc -l <"$TMP/cp.err")" = 2 || { cat "$TMP/cp.err"; exit 1; }'

# ---- Redis down from the start: the coprocess connects when it appears ----
redis_stop
cop_start "$TMP/cp2.err" pd-match --group --unbuffered
ask '{"type":"video","id":"v1"}'
expect 'Redis down at the start: answers, one warning' '
	test "$(ids)" = "[\"p-howto-F\",\"p-mid-F\",\"p-question-F\"]" &&
	grep -q "without the cache" "$TMP/cp2.err" && test "$(wc -l <"$TMP/cp2.err")" = 1'
redis_start || echo "# redis-server did not start again"
n=0
until [ -n "$(rcli --scan --pattern 'pd:match:*:v1')" ] || [ $n -ge 150 ]; do
	ask '{"type":"video","id":"v1"}'
	n=$((n + 1))
	[ -n "$ans" ] || break
	sleep 0.1
done
cop_stop; COP_PID=
expect 'Redis down at the start, up later: connected, said once, the cache written' '
	cat "$TMP/cp2.err"; test "$COP_STATUS" = 0 && test "$(grep -c "connected again" "$TMP/cp2.err")" = 1 &&
	test -n "$(rcli --scan --pattern "pd:match:*:v1")"'
redis_stop
test_done
