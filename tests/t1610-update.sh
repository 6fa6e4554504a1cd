#!/usr/bin/env bash
# t1610-update — scripts/pd-update through the private PostgreSQL: a day's new
# videos are embedded with the saved model, placed, matched and stored in
# seconds; the since time advances; a re-discovery is due (exit 10) or run
# when a threshold is crossed.
. "$(dirname "$0")/lib/tap.sh"
. "$PD_TOP/tests/lib/services.sh"
. "$PD_TOP/tests/lib/store.sh"
store_db_or_skip pd_t1610

U=$PD_TOP/scripts/pd-update
S=$TMP/state
NOW=2026-02-01T00:00:00Z
COPTS='--macro 200-2000 --meso 50-400 --micro 10-60'
active_run() { q "select run_id from discovery_runs where status = 'active'"; }

# 1500 videos; the newest 120 (the last day or so) arrive after the nightly run
pd-synth --videos 1500 --seed 6 --days 60 --format ndjson |
	pd-fetch --now "$NOW" --no-metric >"$TMP/all.ndjson"
head -n 1380 "$TMP/all.ndjson" >"$TMP/old.ndjson"
tail -n 120 "$TMP/all.ndjson" >"$TMP/new.ndjson"
pd-store --no-passthrough --quiet "$TMP/old.ndjson" >/dev/null

run "$U" --state-dir "$S"
expect 'before any discovery: status 4' 'check_status 4 && grep -q "run pd-discover first" "$ERR"'

run "$PD_TOP/scripts/pd-discover" --state-dir "$S" --quiet --pg --cluster-opts "$COPTS"
expect 'the nightly run' 'check_status 0'
night=$(readlink "$S/current") night_db=$(active_run)

pd-store --no-passthrough --quiet "$TMP/new.ndjson" >/dev/null
t0=$(date +%s.%N)
run "$U" --state-dir "$S" --no-rediscover --growth 1000 --drift-max 1
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
echo "# pd-update of 120 new videos (1380 stored): $secs s"
expect 'an update of a day'"'"'s new videos succeeds in seconds' '
	check_status 0 && test "$(echo "$secs < 20" | bc)" = 1'
expect 'the new videos are stored with their embedding and clusters' '
	n=$(q "select count(*) from videos v join active_video_clusters m on m.video_id = v.id
		where m.micro is not null and v.embedding is not null") &&
	echo "$n placed" && test "$n" -ge 1480'
expect 'the clusters are those of the active run' '
	test "$(q "select count(*) from active_video_clusters v where not exists (select 1 from active_clusters c
		where c.id = v.micro) and v.micro is not null")" = 0'
expect 'they are matched against the active patterns' '
	f=$(ls "$S"/matches/update-*.ndjson) && grep "\"stage\":\"match\"" "$f" &&
	jq -e -s "map(select(.type == \"metric\" and .stage == \"match\"))[0].videos_answered >= 110" "$f" >/dev/null'
expect 'their matches are stored as predictions of the active run' '
	n=$(q "select count(*) from predictions where run_id = $(active_run)") &&
	f=$(ls "$S"/matches/update-*.ndjson) &&
	m=$(jq -r "select(.type == \"match\") | [.video_id, .pattern_id] | @tsv" "$f" | sort -u | wc -l) &&
	echo "$n predictions, $m (video, pattern) matches" && test "$m" -ge 40 && test "$n" = "$m"'
expect 'new members are counted per micro cluster' '
	test "$(awk -F"\t" "{ s += \$2 } END { print s }" "$S/current/growth.tsv")" -ge 100'
expect 'the active run and state are unchanged' '
	test "$(readlink "$S/current")" = "$night" && test "$(active_run)" = "$night_db"'

run "$U" --state-dir "$S" --no-rediscover --growth 1000 --drift-max 1
expect 'the next update finds nothing new (the since time advanced)' '
	check_status 0 && grep -q "0 videos stored" "$ERR"'

run "$U" --state-dir "$S" --no-rediscover --growth 5
expect 'growth past --growth: re-discovery due, status 10' '
	check_status 10 && grep -q "pd-update: re-discovery due: micro cluster .* has grown by [0-9]* videos" "$ERR" &&
	test "$(readlink "$S/current")" = "$night"'
run "$U" --state-dir "$S" --no-rediscover --growth 1000 --drift-max 0.01 --drift-min 10
expect 'drift past --drift-max: re-discovery due' '
	check_status 10 && grep -q "new videos lie beyond their cluster radius" "$ERR"'

run "$U" --state-dir "$S" --growth 5
expect 'without --no-rediscover it runs pd-discover, which makes a new active run' '
	check_status 0 && grep -q "running pd-discover --pg" "$ERR" &&
	test "$(readlink "$S/current")" != "$night" && test "$(active_run)" != "$night_db" &&
	test ! -s "$S/current/growth.tsv" && grep -q "cluster-opts" "$S/current/discover.args"'

exec 8>>"$S/lock"; flock -n 8
run "$U" --state-dir "$S"
expect 'an update during a discovery refuses with status 75' 'check_status 75'
exec 8>&-
test_done
