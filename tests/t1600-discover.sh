#!/usr/bin/env bash
# t1600-discover — scripts/pd-discover, the nightly worker, through the private
# PostgreSQL: a run leaves state; a second run at once refuses; a run killed in
# the middle or with a failing stage leaves the previous state and active run,
# and the next run succeeds.
. "$(dirname "$0")/lib/tap.sh"
. "$PD_TOP/tests/lib/services.sh"
. "$PD_TOP/tests/lib/store.sh"
store_db_or_skip pd_t1600

D=$PD_TOP/scripts/pd-discover
S=$TMP/state
NOW=2026-02-01T00:00:00Z
OPTS=(--state-dir "$S" --quiet --cluster-opts '--macro 200-2000 --meso 50-400 --micro 10-60')
active_run() { q "select run_id from discovery_runs where status = 'active'"; }
cur_run() { readlink "$S/current"; }

# 1500 videos in the database, as an ingestion would leave them
pd-synth --videos 1500 --seed 5 --days 60 --format ndjson >"$TMP/videos.ndjson"
pd-fetch --now "$NOW" "$TMP/videos.ndjson" | pd-store --no-passthrough --quiet >/dev/null

run "$D" "${OPTS[@]}" --pg
expect 'a run from the database succeeds' 'check_status 0'
expect 'it leaves the model, clusters and patterns in the state directory' '
	test -s "$S/current/model.pdm" && test -s "$S/current/clusters.ndjson" &&
	test -f "$S/current/patterns.ndjson" && test -s "$S/since" &&
	jq -e "select(.level == \"micro\")" "$S/current/clusters.ndjson" >/dev/null &&
	ls "$S"/logs/discover-*.log >/dev/null && ! ls "$S"/work/* 2>/dev/null'
expect 'the run is the active run of the database, with its metric records' '
	. "$S/current/run.env" && test "$db_run_id" = "$(active_run)" &&
	test "$(q "select string_agg(distinct stage, chr(44) order by stage) from pattern_discovery_metrics
		where run_id = $db_run_id")" = "cluster,embed,fetch,mine,store,validate"'
expect 'the saved model embeds a video as the run did' '
	v=$(q "select video_id from active_video_clusters where micro is not null order by video_id limit 1") &&
	pd-fetch --pg --perf-mode keep --no-metric | grep -F "\"id\":\"$v\"" >"$TMP/one.ndjson" &&
	pd-embed --model "$S/current/model.pdm" --force --no-metric "$TMP/one.ndjson" >"$TMP/one-e.ndjson" &&
	test "$(jq -r .embedding_b64 "$TMP/one-e.ndjson")" = "$(jq -r .embedding_b64 "$TMP/one.ndjson")"'

# two at once: the lock is held (as a running pd-discover holds it)
exec 8>>"$S/lock"
flock -n 8
run "$D" "${OPTS[@]}" --pg
expect 'a second run while the lock is held refuses with status 75' '
	check_status 75 && grep -q "pd-discover: another run holds the lock" "$ERR"'
exec 8>&-

# two at once for real: start one, wait (bounded) until it holds the lock
"$D" "${OPTS[@]}" --pg >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
# (a busy machine may take long to start it: wait up to 120 s, while it
# lives).  It names itself in lock.owner once it holds the lock; probing the
# lock with flock here would hold it for an instant, and a run starting in
# that instant would refuse.
for _ in $(seq 1200); do
	grep -qs " pid $bg\$" "$S/lock.owner" && break
	kill -0 $bg 2>/dev/null || break
	sleep 0.1
done
run "$D" "${OPTS[@]}" --pg
wait $bg; bgst=$?
expect 'started at once, one runs and the other refuses' '
	check_status 75 && test "$bgst" = 0 && grep -q "another run holds the lock" "$ERR"'
prev=$(cur_run) prev_db=$(active_run)

# killed in the middle: a pd-mine that waits to be killed
mkdir -p "$TMP/fake"
cat >"$TMP/fake/pd-mine" <<'SH'
#!/bin/sh
echo $$ >"$FLAG"
exec sleep 300
SH
chmod +x "$TMP/fake/pd-mine"
FLAG=$TMP/mine.pid PATH="$TMP/fake:$PATH" "$D" "${OPTS[@]}" --pg >"$TMP/k.out" 2>"$TMP/k.err" &
kp=$!
for _ in $(seq 600); do [ -s "$TMP/mine.pid" ] && break; sleep 0.05; done
kill -TERM $kp
wait $kp; kst=$?
expect 'killed during a stage, it says so and exits 143' '
	test -s "$TMP/mine.pid" && test "$kst" = 143 &&
	grep -q "pd-discover: interrupted by SIGTERM during pd-fetch | ... | pd-validate" "$TMP/k.err"'
expect 'its stages are gone with it, and so is the lock' '
	for _ in $(seq 100); do kill -0 "$(cat "$TMP/mine.pid")" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$(cat "$TMP/mine.pid")" 2>/dev/null && flock -n "$S/lock" true'
expect 'the previous state and active run are intact' '
	test "$(cur_run)" = "$prev" && test "$(active_run)" = "$prev_db" &&
	test -s "$S/current/model.pdm" && ! ls "$S"/runs/*.tmp 2>/dev/null'

# a failing stage
cat >"$TMP/fake/pd-validate" <<'SH'
#!/bin/sh
cat >/dev/null
echo "pd-validate: the LLM endpoint failed" >&2
exit 3
SH
chmod +x "$TMP/fake/pd-validate"
rm -f "$TMP/fake/pd-mine"
PATH="$TMP/fake:$PATH" run "$D" "${OPTS[@]}" --pg
expect 'a failing stage gives status 3 and a message naming it' '
	check_status 3 && grep -q "pd-discover: stage pd-validate failed (exit status 3" "$ERR" &&
	grep -q "the LLM endpoint failed" "$ERR"'
expect 'and leaves the previous state and active run' '
	test "$(cur_run)" = "$prev" && test "$(active_run)" = "$prev_db"'

run "$D" "${OPTS[@]}" --pg
expect 'the next run succeeds and becomes the active run' '
	check_status 0 && test "$(cur_run)" != "$prev" && test "$(active_run)" != "$prev_db" &&
	. "$S/current/run.env" && test "$db_run_id" = "$(active_run)"'
expect 'it keeps cluster ids of the previous run' '
	jq -r "select(.level==\"macro\") | .id" "$S/current/clusters.ndjson" >"$TMP/ids-now" &&
	jq -r "select(.level==\"macro\") | .id" "$S/runs/$(basename "$prev")/clusters.ndjson" >"$TMP/ids-before" &&
	test "$(comm -12 <(sort "$TMP/ids-now") <(sort "$TMP/ids-before") | wc -l)" -ge 1'

run "$D" --state-dir "$S" --pg --max-videos 3
expect 'usage errors exit 2' 'check_status 2 && grep -q "^Try .pd-discover --help" "$ERR"'
run "$D" --help
expect '--help' 'check_status 0 && grep -q "^Usage: pd-discover" "$OUT"'
test_done
