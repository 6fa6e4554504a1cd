#!/usr/bin/env bash
# t0810-store-faults.sh — pd-store when the database fails: refused and
# missing servers, a wrong password, pgvector missing, the server killed in
# the middle of a run (nothing of it visible, a rerun succeeds), a backend
# terminated mid-run, and two runs at once.  Uses its own private server
# (scripts/pd-services) so that killing it disturbs no other test.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! command -v psql >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
	echo "1..0 # SKIP PostgreSQL or Redis not installed"
	exit 0
fi
SVC=$(mktemp -d /tmp/t0810.XXXXXX)	# the postgres user must reach it
chmod 755 "$SVC"
svc_env=$("$PD_TOP/scripts/pd-services" start "$SVC" 2>"$TMP/svc.log") || {
	echo "1..0 # SKIP cannot start a private PostgreSQL: $(tail -n 1 "$TMP/svc.log")"
	rm -rf "$SVC"
	exit 0
}
eval "$svc_env"
export DATABASE_URL REDIS_URL
trap '"$PD_TOP/scripts/pd-services" stop "$SVC" >/dev/null 2>&1; rm -rf "$SVC"; _tap_cleanup' EXIT
Q="'"
PGHOST_DIR=${DATABASE_URL#*host=}
PGHOST_DIR=${PGHOST_DIR%%&*}

run env DATABASE_URL=postgresql://postgres@127.0.0.1:1/pd pd-store --migrate
expect 'connection refused: exit 3 with the reason, after retries' '
	check_status 3 && grep -q "pd-store: cannot connect to PostgreSQL: .*Connection refused" "$ERR"'
run env DATABASE_URL="postgresql://postgres@/pd?host=$TMP/nowhere" pd-store --migrate
expect 'no server socket: exit 3 with the reason' '
	check_status 3 && grep -q "No such file or directory" "$ERR"'

q "CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD ${Q}right-secret${Q}" >/dev/null
hba=$(q "show hba_file")
{ echo "local all pwuser scram-sha-256"; cat "$hba"; } >"$TMP/hba" && cat "$TMP/hba" >"$hba"
q "select pg_reload_conf()" >/dev/null
# the reload is asynchronous: wait (at most ~30 s) until pwuser's password is checked
for _ in $(seq 300); do
	PGCONNECT_TIMEOUT=5 psql -w "postgresql://pwuser:wrong-secret@/pd?host=$PGHOST_DIR" -qAtX -c "select 1" 2>&1 |
		grep -q "password authentication failed" && break
	sleep 0.1
done
t0=$(date +%s)
run env DATABASE_URL="postgresql://pwuser:wrong-secret@/pd?host=$PGHOST_DIR" pd-store --migrate
t1=$(date +%s)
expect 'a wrong password: exit 3, the reason, no retries, no secret in the message' '
	check_status 3 && grep -q "password authentication failed for user \"pwuser\"" "$ERR" &&
	! grep -q secret "$ERR" && test $((t1 - t0)) -lt 2'
run env DATABASE_URL="postgresql://pwuser:right-secret@/pd?host=$PGHOST_DIR" pd-store --migrate
expect 'the right password connects' 'check_status 0'

q "CREATE DATABASE novec" >/dev/null
q "CREATE ROLE nov LOGIN" >/dev/null
base=${DATABASE_URL%%\?*}
run env DATABASE_URL="${base%/*}/novec?user=nov&host=$PGHOST_DIR" pd-store --migrate
expect 'pgvector missing (and not creatable): exit 3 saying so' '
	check_status 3 &&
	grep -q "pd-store: pgvector: extension .vector. is not installed in this database and cannot be created: .*permission denied" "$ERR"'

gen_stream --videos 400 --dim 8 --seed 1 >"$TMP/run1.ndjson"
gen_stream --videos 3000 --dim 8 --seed 2 --variant 1 >"$TMP/run2.ndjson"
IN=$TMP/run1.ndjson run pd-store --no-passthrough
expect 'a first run stores' 'check_status 0'
dump() {
	for t in videos clusters patterns discovery_runs pattern_discovery_metrics semantic_cluster_stats; do
		q "select * from $t order by 1, 2"
	done
}
dump >"$TMP/before"

# the backend terminated in the middle of the COPY
mkfifo "$TMP/fifo"
( pd-store --no-passthrough "$TMP/fifo" >"$TMP/bg.out" 2>"$TMP/bg.err"; echo $? >"$TMP/bg.rc" ) &
exec 7>"$TMP/fifo"
head -n 2000 "$TMP/run2.ndjson" >&7
wait_store_backend; started=$?
q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${Q}pd-store${Q}" >/dev/null
tail -n +2001 "$TMP/run2.ndjson" >&7 2>/dev/null
exec 7>&-
wait
expect 'a backend terminated mid-run: exit 3, nothing of the run visible' '
	test $started = 0 && test "$(cat "$TMP/bg.rc")" = 3 && grep -q "pd-store: .*terminat" "$TMP/bg.err" &&
	dump >"$TMP/after" && cmp "$TMP/before" "$TMP/after"'

# the whole server killed (immediate shutdown) in the middle of a run
( pd-store --no-passthrough "$TMP/fifo" >"$TMP/bg.out" 2>"$TMP/bg.err"; echo $? >"$TMP/bg.rc" ) &
exec 7>"$TMP/fifo"
head -n 2000 "$TMP/run2.ndjson" >&7
wait_store_backend; started=$?
pm=$(head -n 1 "$SVC/pg/data/postmaster.pid")
kill -QUIT "$pm"	# immediate shutdown: no checkpoint, backends die at once
tail -n +2001 "$TMP/run2.ndjson" >&7 2>/dev/null
exec 7>&-
wait
for _ in $(seq 300); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done	# at most ~30 s
"$PD_TOP/scripts/pd-services" start "$SVC" >/dev/null 2>"$TMP/svc2.log"
expect 'the server killed mid-run: exit 3 with the reason; after restart nothing of the run is visible' '
	test $started = 0 && test "$(cat "$TMP/bg.rc")" = 3 && test -s "$TMP/bg.err" &&
	dump >"$TMP/after" && cmp "$TMP/before" "$TMP/after"'
IN=$TMP/run2.ndjson run pd-store --no-passthrough
expect 'a rerun then succeeds' '
	check_status 0 &&
	test "$(q "select string_agg(status, ${Q},${Q} order by run_id) from discovery_runs")" = "superseded,active" &&
	test "$(q "select count(*) from active_patterns")" = 4'

gen_stream --videos 300 --dim 8 --seed 3 --variant 2 >"$TMP/run3.ndjson"
gen_stream --videos 300 --dim 8 --seed 4 --variant 3 >"$TMP/run4.ndjson"
pd-store --no-passthrough "$TMP/run3.ndjson" >"$TMP/c1.out" 2>"$TMP/c1.err" & p1=$!
pd-store --no-passthrough "$TMP/run4.ndjson" >"$TMP/c2.out" 2>"$TMP/c2.err" & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
expect 'two runs at once both succeed, one after the other, one active set' '
	test $r1 = 0 && test $r2 = 0 &&
	test "$(q "select count(*) from discovery_runs where status = ${Q}active${Q}")" = 1 &&
	test "$(q "select count(*) from discovery_runs")" = 4 &&
	n=$(q "select patterns from discovery_runs where status = ${Q}active${Q}") &&
	test "$(q "select count(*) from active_patterns")" = "$n"'

# Output that cannot be written (man pd-store, EXIT STATUS): before the commit
# it stops the run (3, nothing stored); after it the run stays stored (4).
runs() { q "select count(*) from discovery_runs"; }
gen_stream --videos 50 --dim 8 --seed 5 --variant 4 >"$TMP/run5.ndjson"
n0=$(runs)
pd-store "$TMP/run5.ndjson" >/dev/full 2>"$ERR"; status=$?
expect 'stdout full while passing records through: exit 3, nothing of the run stored' '
	check_status 3 && grep -q "pd-store: write error: No space left on device" "$ERR" && test "$(runs)" = "$n0"'
{ cat "$TMP/run5.ndjson"; echo '{"type":"video"}'; } >"$TMP/run5bad.ndjson"
n0=$(runs)
pd-store --no-passthrough --rejects /dev/full "$TMP/run5bad.ndjson" >"$OUT" 2>"$ERR"; status=$?
expect 'a --rejects file that cannot be written: exit 3, nothing of the run stored' '
	check_status 3 && grep -q "pd-store: cannot write ./dev/full.: No space left on device" "$ERR" &&
	test "$(runs)" = "$n0"'
n0=$(runs)
run pd-store --no-passthrough --rejects "$TMP/no/such/dir/rej" "$TMP/run5bad.ndjson"
expect 'a --rejects path that cannot be opened: exit 2 at once, nothing stored' '
	check_status 2 && grep -q "cannot open" "$ERR" && test "$(runs)" = "$n0"'
gen_stream --videos 50 --dim 8 --seed 6 --variant 4 >"$TMP/run6.ndjson"
n0=$(runs)
pd-store --no-passthrough "$TMP/run6.ndjson" >/dev/full 2>"$ERR"; status=$?
expect 'stdout full after the commit (the metric record): exit 4, the run stored' '
	check_status 4 && grep -q "pd-store: write error: No space left on device" "$ERR" &&
	test "$(runs)" = $((n0 + 1))'

# a title with the text \u0000 (an escaped backslash, then u0000) is text, not a NUL
printf '%s\n' '{"type":"video","id":"nul-text","title":"a \\u0000 b"}' \
	'{"type":"video","id":"nul-real","title":"a \u0000 b"}' >"$TMP/nul.ndjson"
run pd-store --no-passthrough "$TMP/nul.ndjson"
expect 'the text \u0000 is stored as text; a real NUL is rejected' '
	check_status 1 && grep -q "nul.ndjson:2: .u0000 in a string cannot be stored" "$ERR" &&
	! grep -q "nul.ndjson:1:" "$ERR" &&
	test "$(q "select title from videos where id = ${Q}nul-text${Q}")" = "a \\u0000 b"'
test_done
