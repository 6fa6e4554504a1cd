#!/usr/bin/env bash
# t0840-store-runs.sh — cluster membership per run (video_clusters): a
# re-clustering of the same videos rewrites no videos row, readers see the
# active run's membership, assigned videos join the active hierarchy,
# pruning takes old memberships; migration 3 from a schema-2 database with
# data keeps every membership; a database without pd's schema and a
# non-PostgreSQL DATABASE_URL give one clear message; each stage's metric
# counts its own seconds, and pd-store stores a row for its own stage.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! store_db t0840_runs; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
trap 'store_db_drop; _tap_cleanup' EXIT
Q="'"
FIX=$(cd "$(dirname "$0")" && pwd)/t0840

gen_stream --videos 60 --dim 8 --seed 1 >"$TMP/run1.ndjson"
# the same videos re-clustered: macro m0 and m1 swap everywhere (videos,
# clusters, patterns), nothing else of a video changes
sed 's/"m0/"mX/g; s/"m1/"m0/g; s/"mX/"m1/g' "$TMP/run1.ndjson" >"$TMP/rerun.ndjson"

xmins() { q "select string_agg(xmin::text, ${Q},${Q} order by id) from videos"; }

IN=$TMP/run1.ndjson run pd-store --no-passthrough
expect 'first run: every video written, 60 memberships' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run_id == 1 and .videos_changed == 60 and .memberships == 60"'
x1=$(xmins)
IN=$TMP/rerun.ndjson run pd-store --no-passthrough
expect 'a re-clustering of the same videos rewrites no videos row' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run_id == 2 and .run == \"active\" and .videos_changed == 0
		and .memberships == 60" &&
	test "$(xmins)" = "$x1" &&
	test "$(q "select videos_changed from discovery_runs where run_id = 2")" = 0 &&
	test "$(q "select count(*), count(distinct run_id) from video_clusters")" = "120|2"'
run pd-fetch --pg --no-metric
expect 'pd-fetch --pg gives the new run'\''s clusters' '
	check_status 0 &&
	test "$(jq -c "select(.id == \"v0000\") | .cluster" "$OUT")" = "{\"macro\":\"m1\",\"meso\":\"m1.s0\",\"micro\":\"m1.s0.u0\"}" &&
	test "$(jq -c "select(.id == \"v0001\") | .cluster" "$OUT")" = "{\"macro\":\"m0\",\"meso\":\"m0.s1\",\"micro\":\"m0.s1.u1\"}"'
expect 'semantic_cluster_stats counts the active run'\''s members' '
	test "$(q "select video_count from semantic_cluster_stats where cluster_id = ${Q}m1.s0.u0${Q}")" = 8 &&
	test "$(q "select count(*) from semantic_cluster_stats where video_count > 0")" = 14 &&
	test "$(q "select sum(video_count) from semantic_cluster_stats where level = ${Q}micro${Q}")" = 60'

# videos alone (pd-cluster --assign output): their memberships join the active run
printf '%s\n' \
	'{"type":"video","id":"new1","channel_id":"ch1","title":"A new one","published_at":"2025-12-01T00:00:00Z","views":5,"cluster":{"macro":"m0","meso":"m0.s1","micro":"m0.s1.u1"},"cluster_sim":0.9}' \
	"$(sed -n 2p "$TMP/rerun.ndjson" | jq -c "del(.cluster, .cluster_sim)")" >"$TMP/assign.ndjson"
IN=$TMP/assign.ndjson run pd-store --no-passthrough
expect 'assigned videos join the active run'\''s hierarchy; no cluster keeps the stored one' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run == \"loaded\" and .videos_changed == 1 and .memberships == 1" &&
	test "$(q "select run_id, micro, sim from video_clusters where video_id = ${Q}new1${Q}")" = "2|m0.s1.u1|0.9" &&
	test "$(q "select run_id, micro from active_video_clusters where video_id = ${Q}v0000${Q}")" = "2|m1.s0.u0"'

# one video changed (its views) among the same ones: that row alone is written
sed '/"id":"v0007"/s/"views":\([0-9]*\)/"views":\11/' "$TMP/rerun.ndjson" >"$TMP/views.ndjson"
x2=$(xmins)
IN=$TMP/views.ndjson run pd-store --no-passthrough
expect 'a changed video is written, and only it' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".videos_changed == 1 and (has(\"videos_written\") | not)" &&
	test "$(sed -n 9p "$TMP/views.ndjson" | jq .views)" = "$(sed -n 9p "$TMP/rerun.ndjson" | jq ".views * 10 + 1")" &&
	test "$(q "select views from videos where id = ${Q}v0007${Q}")" = "$(sed -n 9p "$TMP/views.ndjson" | jq .views)" &&
	test "$(xmins | tr , "\n" | grep -vxFf <(echo "$x2" | tr , "\n") | wc -l)" = 1'

IN=$TMP/rerun.ndjson run pd-store --no-passthrough --keep-runs 1
expect '--keep-runs prunes the old runs'\'' memberships' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run_id == 5 and .videos_changed == 1 and .runs_pruned == 4" &&
	test "$(q "select count(*), min(run_id) from video_clusters")" = "60|5"'

# videos the database does not hold are copied straight into videos, the
# held ones staged: a run of both (and of an id with a backslash and a tab,
# which the ids read at the start would not show as held) stores each once
printf '%s\n' \
	'{"type":"video","id":"fresh1","channel_id":"ch9","title":"Fresh","views":7,"cluster":{"macro":"m0","meso":"m0.s1","micro":"m0.s1.u1"},"cluster_sim":0.8}' \
	"$(sed -n 2p "$TMP/rerun.ndjson")" \
	'{"type":"video","id":"odd\\id\t1","title":"Odd","cluster":{"macro":"m1"}}' >"$TMP/mixed.ndjson"
IN=$TMP/mixed.ndjson run pd-store --no-passthrough
expect 'new videos copied straight in, held ones staged: each stored once, memberships joined' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run_id == 6 and .run == \"loaded\" and .videos == 3 and .videos_changed == 2
		and .memberships == 2" &&
	test "$(q "select run_id, title, views from videos where id = ${Q}fresh1${Q}")" = "6|Fresh|7" &&
	test "$(q "select title from videos where id = E${Q}odd\\\\id\\t1${Q}")" = Odd &&
	test "$(q "select count(*) from videos")" = 63 &&
	test "$(q "select run_id, micro, sim from active_video_clusters where video_id = ${Q}fresh1${Q}")" = "5|m0.s1.u1|0.8" &&
	test "$(q "select run_id, macro from active_video_clusters where video_id = E${Q}odd\\\\id\\t1${Q}")" = "5|m1"'
x3=$(xmins)
IN=$TMP/mixed.ndjson run pd-store --no-passthrough
expect 'the same mixed input again is the same run: nothing written' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run_id == 6 and .run == \"repeat\" and .videos_changed == 0
		and .memberships == 0" &&
	test "$(xmins)" = "$x3" && test "$(q "select count(*) from discovery_runs")" = 2'

# a run bringing 10,000 clusters or more drops the centroid index
# (concurrently, from a second connection) and builds it again in one pass
# after the commit, concurrently, instead of inserting each centroid into it
awk 'BEGIN { for (i = 0; i < 12000; i++) {
	printf "{\"type\":\"cluster\",\"id\":\"k%d\",\"level\":\"micro\",\"size\":10,\"centroid\":[", i
	for (d = 0; d < 8; d++) printf "%s%.4f", (d ? "," : ""), sin(i * 8 + d + 1)
	print "]}" } }' >"$TMP/many.ndjson"
valid_index() { q "select indisvalid and indisready from pg_index where indexrelid = to_regclass(${Q}clusters_centroid_hnsw${Q})"; }
IN=$TMP/many.ndjson run pd-store --no-passthrough
expect '12,000 clusters: the centroid index rebuilt, valid, and used by a nearest-neighbour query' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".clusters == 12000 and .centroid_index == \"rebuilt\"
		and .centroid_index_seconds > 0 and (has(\"hnsw_indexes_built\") | not)" &&
	test "$(valid_index)" = t &&
	test "$(q "select count(*) from active_clusters")" = 12000 &&
	psql "$DATABASE_URL" -qAtX -c "set enable_seqscan = off" -c "explain select id from clusters order by centroid <=> (select centroid from clusters where id = ${Q}k7${Q} limit 1) limit 3" | grep -q "Index Scan using clusters_centroid_hnsw" &&
	test "$(psql "$DATABASE_URL" -qAtX -c "set enable_seqscan = off" -c "select round((centroid <=> (select centroid from clusters where id = ${Q}k7${Q} limit 1))::numeric, 4) from clusters order by centroid <=> (select centroid from clusters where id = ${Q}k7${Q} limit 1) limit 1")" = 0.0000'
IN=$TMP/many.ndjson run pd-store --no-passthrough
expect 'the same 12,000 clusters again: the same run, the index left alone' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".run == \"repeat\" and (has(\"centroid_index\") | not)" &&
	test "$(valid_index)" = t'
IN=$TMP/run1.ndjson run pd-store --no-passthrough
expect 'a run of few clusters inserts them into the index: no rebuild' '
	check_status 0 && tail -n 1 "$OUT" | jq -e "(has(\"hnsw_indexes_built\") | not) and .clusters == 14
		and (has(\"centroid_index\") | not)" &&
	test "$(valid_index)" = t'
# an index left invalid (a concurrent drop that failed half way) is built again
q "update pg_index set indisvalid = false where indexrelid = ${Q}clusters_centroid_hnsw${Q}::regclass"
IN=$TMP/rerun.ndjson run pd-store --no-passthrough
expect 'an invalid centroid index is built again by the next run' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".hnsw_indexes_built == 1" && test "$(valid_index)" = t'

# ---- migration from schema 2, with data ------------------------------------
store_db_drop
store_db t0840_mig
psql "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -f "$FIX/schema2.sql" >/dev/null 2>&1
expect 'the fixture is a schema-2 database with membership in videos' '
	test "$(q "select max(version) from schema_migrations")" = 2 &&
	test "$(q "select count(*) from videos where cluster_micro is not null")" = 12'
run pd-store --migrate
expect 'pd-store --migrate applies migrations 3 and 4' '
	check_status 0 && grep -q "\"migrations_applied\":2" "$OUT" &&
	test "$(q "select max(version) from schema_migrations")" = 4 &&
	test "$(q "select count(*) from information_schema.columns where table_name = ${Q}videos${Q} and column_name like ${Q}cluster%${Q}")" = 0'
expect 'the memberships moved to the active run' '
	test "$(q "select count(*), min(run_id), max(run_id) from video_clusters")" = "12|2|2" &&
	test "$(q "select macro, meso, micro, sim from video_clusters where video_id = ${Q}v0003${Q}")" = "m1|m1.s3|m1.s3.u3|0.53"'
run pd-fetch --pg --no-metric
expect 'pd-fetch --pg after the migration gives what it gave before, byte for byte' '
	check_status 0 && cmp "$OUT" "$FIX/schema2-fetch.ndjson"'
expect 'semantic_cluster_stats after the migration' '
	q "refresh materialized view semantic_cluster_stats" &&
	test "$(q "select video_count from semantic_cluster_stats where cluster_id = ${Q}m0${Q}")" = 6'
# migration 4: no per-row key check of the memberships' run, but deleting a
# run still takes its memberships (a statement trigger), and only its own
expect 'migration 4: a deleted run takes its memberships, no foreign key left' '
	test "$(q "select count(*) from pg_constraint where conrelid = ${Q}video_clusters${Q}::regclass and contype = ${Q}f${Q}")" = 0 &&
	q "insert into discovery_runs (run_id, status, content_hash) values (77, ${Q}loaded${Q}, ${Q}x${Q})" &&
	q "insert into video_clusters (run_id, video_id, macro) values (77, ${Q}v0003${Q}, ${Q}m9${Q})" &&
	test "$(q "select count(*) from video_clusters")" = 13 &&
	q "delete from discovery_runs where run_id = 77" &&
	test "$(q "select count(*), min(run_id), max(run_id) from video_clusters")" = "12|2|2"'
gen_stream --videos 60 --dim 4 --seed 1 >"$TMP/run4.ndjson"	# the fixture's dimension
IN=$TMP/run4.ndjson run pd-store --no-passthrough --keep-runs 1
expect 'a run stored after migration 4; --keep-runs prunes the old run and its memberships' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".run == \"active\" and .runs_pruned >= 1" &&
	test "$(q "select count(distinct run_id) from video_clusters")" = 1 &&
	test "$(q "select count(*) from video_clusters v where not exists (select 1 from discovery_runs r where r.run_id = v.run_id)")" = 0'

# ---- a database without pd's schema; another database's URI ---------------
store_db_drop
store_db t0840_empty
echo '{"type":"draft","title":"How to fix a bike"}' >"$TMP/draft.ndjson"
for cmd in "pd-fetch --pg" "pd-match"; do
	IN=$TMP/draft.ndjson run $cmd
	expect "$cmd on a database without pd's schema: one clear message" '
		test "$status" = 3 &&
		grep -q "^${cmd%% *}: .*database has no pd schema.*; run pd-store --migrate$" "$ERR" &&
		! grep -q "relation \"[a-z_]*\" does not exist" "$ERR"'
done
run pd-report --db
expect 'pd-report --db on a database without pd'\''s schema: a page that says so, no error' '
	check_status 0 && test ! -s "$ERR"'
for cmd in "pd-fetch --pg" "pd-match" "pd-report --db" "pd-store" "pd-track report"; do
	IN=$TMP/run1.ndjson DATABASE_URL="mysql://user@db.example/pd" run $cmd
	expect "$cmd refuses DATABASE_URL=mysql://" '
		test "$status" -ge 2 && test "$status" -le 3 &&
		grep -q "DATABASE_URL is a .mysql://. URI; pd needs PostgreSQL" "$ERR" &&
		! grep -qi "socket" "$ERR"'
done

# ---- each stage's own seconds ------------------------------------------------
store_db_drop
store_db t0840_secs
# the producer takes 3 s before the stream arrives: a stage's own seconds
# must not count that wait (they did: the seconds since the process started,
# so each stage's figure included every stage before it); compared with the
# wall time, so a slow machine does not make the test fail
now() { date +%s.%N; }
mkfifo "$TMP/fifo.in"
{ sleep 3; cat "$TMP/run1.ndjson"; } >"$TMP/fifo.in" &
t0=$(now)
run pd-store --no-passthrough "$TMP/fifo.in"
wall=$(echo "$(now) - $t0" | bc)
wait
expect 'pd-store: its own seconds, not the wait for its input' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".seconds < $wall - 2.5" &&
	test "$(q "select count(*) from pattern_discovery_metrics where stage = ${Q}store${Q}
		and seconds < $wall - 2.5")" = 1'
t0=$(now)
{ sleep 3; cat "$TMP/run1.ndjson"; } | pd-mine >"$TMP/mine.out" 2>/dev/null
wall=$(echo "$(now) - $t0" | bc)
expect 'pd-mine downstream of a slow producer reports its own seconds' '
	tail -n 1 "$TMP/mine.out" | jq -e ".stage == \"mine\" and .seconds < $wall - 2.5"'
printf '%s\n' '{"type":"metric","stage":"validate","seconds":0.5,"records_in":9,"records_out":4,"rejected":0,"patterns":7,"validated":2,"provisional":1}' >"$TMP/val.ndjson"
IN=$TMP/val.ndjson run pd-store --no-passthrough
expect 'the validate row'\''s patterns_found is what it let through, not the candidates' '
	check_status 0 &&
	test "$(q "select patterns_found from pattern_discovery_metrics where stage = ${Q}validate${Q}")" = 3'

test_done
