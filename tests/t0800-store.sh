#!/usr/bin/env bash
# t0800-store.sh — pd-store against the real PostgreSQL + pgvector and Redis:
# migrations, a whole run (tables, shapes of the original guide, views, HNSW
# indexes, metrics, cache generation), idempotent reruns, the active-set
# switch, retention, bad records, and reading back with pd-fetch --pg.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! store_db t0800_store; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
trap 'store_db_drop; _tap_cleanup' EXIT
Q="'"	# a SQL quote, for queries inside expect's single-quoted code
rcli() { redis-cli -s "${REDIS_URL#unix://}" "$@"; }

gen_stream --videos 60 --dim 8 --seed 1 >"$TMP/run1.ndjson"
gen_stream --videos 60 --dim 8 --seed 2 --variant 1 >"$TMP/run2.ndjson"

run pd-store --migrate
expect '--migrate applies the schema' '
	check_status 0 &&
	test "$(q "select max(version) from schema_migrations")" = 4 &&
	grep -q "\"migrations_applied\":4" "$OUT"'
run pd-store --migrate
expect '--migrate again applies nothing' '
	check_status 0 && grep -q "\"migrations_applied\":0" "$OUT"'

expect 'every table and view of the schema exists' '
	for t in videos clusters patterns video_patterns discovery_runs pattern_discovery_metrics \
		active_patterns active_clusters pattern_effectiveness_by_cluster semantic_cluster_stats; do
		test "$(q "select to_regclass(${Q}$t${Q}) is not null")" = t || { echo "no $t"; exit 1; }
	done'

gen0=$(rcli get pd:gen 2>/dev/null)
IN=$TMP/run1.ndjson run pd-store --video-index
expect 'a run is stored: exit 0, counts in the metric record' '
	check_status 0 &&
	tail -n 1 "$OUT" | jq -e ".stage == \"store\" and .videos == 60 and .clusters == 14
		and .patterns == 3 and .metrics == 3 and .run == \"active\" and .embedding_dim == 8
		and .hnsw_indexes_built == 2 and .video_index == \"built\" and .memberships == 60"'
expect 'every record passes through unchanged and in order' '
	head -n -1 "$OUT" >"$TMP/pass" && cmp "$TMP/pass" "$TMP/run1.ndjson"'
expect 'the tables hold the run' '
	test "$(q "select count(*) from videos")" = 60 &&
	test "$(q "select count(*) from active_clusters")" = 14 &&
	test "$(q "select count(*) from active_patterns")" = 3 &&
	test "$(q "select count(*) from pattern_discovery_metrics where run_id = 1")" = 4 &&
	test "$(q "select string_agg(stage, ${Q},${Q} order by seq) from pattern_discovery_metrics")" = fetch,cluster,mine,store &&
	test "$(q "select records_in, data->>${Q}videos${Q} from pattern_discovery_metrics where stage = ${Q}store${Q}")" = "80|60" &&
	test "$(q "select status from discovery_runs")" = active'
expect 'video columns are typed, unknown fields kept' '
	test "$(q "select title, views, is_short, tags, m.micro, other_fields->>${Q}holdout${Q},
		published_at = ${Q}2025-11-01T10:00:00Z${Q} from videos v join video_clusters m on m.video_id = v.id
		where id = ${Q}v0000${Q}")" = \
		"How to fix 0 things ü|1000|t|{t0,common}|m0.s0.u0|true|t" &&
	test "$(q "select description from videos where id = ${Q}v0001${Q}")" = "$(printf "desc 1\twith tab\nand newline \\\\ backslash")" &&
	test "$(q "select perf, perf_basis, perf_reason from videos where id = ${Q}v0000${Q}")" = "|5|channel has too few videos" &&
	test "$(q "select perf, perf_basis, age_days, duration_s from videos where id = ${Q}v0001${Q}")" = "0.75|6|11.5|67" &&
	test "$(q "select vector_dims(embedding) from videos limit 1")" = 8'
expect 'the embedding is stored exactly (float32 round trip)' '
	want=$(sed -n 2p "$TMP/run1.ndjson" | jq -r .embedding_b64 |
		/usr/bin/python3 -c "import base64,struct,sys; b=base64.b64decode(sys.stdin.read()); print(${Q},${Q}.join(repr(x) for x in struct.unpack(\"<8f\", b)))") &&
	got=$(q "select embedding from videos where id = ${Q}v0000${Q}" |
		/usr/bin/python3 -c "import sys,struct; v=[float(x) for x in sys.stdin.read().strip()[1:-1].split(${Q},${Q})]; print(${Q},${Q}.join(repr(struct.unpack(\"<f\", struct.pack(\"<f\", x))[0]) for x in v))") &&
	test "$want" = "$got"'
expect 'patterns carry the original guide columns' '
	test "$(q "select pattern_type, pattern_data->>${Q}name${Q}, pattern_data->${Q}sample_size${Q},
		performance_stats->${Q}within_radius${Q}->>${Q}count${Q},
		performance_stats->${Q}outside_radius${Q}->>${Q}count${Q},
		performance_stats->>${Q}lift_ratio${Q}, semantic_radius, vector_dims(centroid_embedding),
		cluster_hierarchy->${Q}path${Q}->0->>${Q}id${Q}, record->${Q}stats${Q}->>${Q}q${Q}
		from patterns where id = ${Q}p0-0${Q}")" = "title|How-to titles 0|12|12|28|1.8|0.25|8|m0|0.01" &&
	test "$(q "select count(*) from video_patterns")" = 9'
expect 'materialized views: one row per cluster and per pattern' '
	test "$(q "select count(*), count(distinct cluster_id) from semantic_cluster_stats")" = "14|14" &&
	test "$(q "select video_count from semantic_cluster_stats where cluster_id = ${Q}m0${Q}")" = 30 &&
	test "$(q "select pattern_count from semantic_cluster_stats where cluster_id = ${Q}m0.s0.u0${Q}")" = 2 &&
	test "$(q "select count(*) from pattern_effectiveness_by_cluster")" = 3 &&
	test "$(q "select avg_performance, lift_ratio, confidence from pattern_effectiveness_by_cluster
		where pattern_id = ${Q}p0-0${Q}")" = "2.9|1.8|0.99" &&
	test "$(q "select count(*) from pg_indexes where indexname in (${Q}pattern_effectiveness_by_cluster_id${Q}, ${Q}semantic_cluster_stats_id${Q})")" = 2'
expect 'HNSW cosine indexes exist and are used' '
	test "$(q "select count(*) from pg_indexes where indexdef like ${Q}%hnsw%vector_cosine_ops%${Q}")" = 3 &&
	psql "$DATABASE_URL" -qAtX -c "set enable_seqscan = off" -c "explain select id from videos order by embedding <=> (select embedding from videos limit 1) limit 5" | grep -q videos_embedding_hnsw'
if [ -n "${REDIS_URL:-}" ]; then
	expect 'the cache generation was bumped' '
		g=$(rcli get pd:gen) && test "$g" -gt "${gen0:-0}" &&
		test "$(tail -n 1 "$OUT" | jq .cache_generation)" = "$g"'
else
	skip 'the cache generation was bumped' 'no REDIS_URL'
fi

# pd-fetch --pg reads back what pd-store wrote
norm='select(.type == "video") | del(.perf, .perf_basis, .perf_reason, .age_days)'
run pd-fetch --pg --no-metric
expect 'pd-fetch --pg round trip: the stored videos come back field for field' '
	check_status 0 &&
	jq -cS "$norm" "$TMP/run1.ndjson" >"$TMP/a" && jq -cS "$norm" "$OUT" >"$TMP/b" &&
	test "$(wc -l <"$TMP/b")" = 60 && diff "$TMP/a" "$TMP/b" >"$TMP/diff" ||
	{ head -c 3000 "$TMP/diff"; false; }'
expect 'pd-fetch --pg: in id order, embedding as embedding_b64, fields in pd-fetch order' '
	test "$(jq -r .id "$OUT" | head -n 3 | tr "\n" " ")" = "v0000 v0001 v0002 " &&
	head -n 1 "$OUT" | grep -q "^{\"type\":\"video\",\"id\":\"v0000\",\"channel_id\":" &&
	test "$(jq -r "has(\"embedding_b64\")" "$OUT" | sort -u)" = true'

dump() {
	for t in videos clusters patterns video_patterns discovery_runs pattern_discovery_metrics \
		pattern_effectiveness_by_cluster semantic_cluster_stats; do
		q "select * from $t order by 1, 2"
	done
}
dump >"$TMP/dump1"
g1=$(rcli get pd:gen 2>/dev/null)
IN=$TMP/run1.ndjson run pd-store --no-passthrough
expect 'rerunning the same input changes nothing' '
	check_status 0 && dump >"$TMP/dump2" && cmp "$TMP/dump1" "$TMP/dump2" &&
	tail -n 1 "$OUT" | jq -e ".run == \"repeat\" and .videos_changed == 0 and .run_id == 1" &&
	test "$(wc -l <"$OUT")" = 1 &&
	test "$(rcli get pd:gen 2>/dev/null)" = "$g1"'

IN=$TMP/run2.ndjson run pd-store --no-passthrough
expect 'a new run becomes the active set at once, the old one is superseded' '
	check_status 0 &&
	test "$(q "select string_agg(run_id || status, ${Q},${Q} order by run_id) from discovery_runs")" = "1superseded,2active" &&
	test "$(q "select string_agg(id, ${Q},${Q} order by id) from active_patterns")" = "p1-0,p1-1,p1-2,p1-3" &&
	test "$(q "select count(*) from patterns")" = 7 &&
	test "$(q "select count(*) from pattern_effectiveness_by_cluster")" = 4 &&
	test "$(q "select count(*) from videos where run_id = 2")" = 60'

IN=$TMP/run1.ndjson run pd-store --no-passthrough --keep-runs 1
expect '--keep-runs 1 keeps only the newest discovery run' '
	check_status 0 &&
	test "$(q "select string_agg(run_id || status, ${Q},${Q} order by run_id) from discovery_runs")" = "3active" &&
	test "$(q "select count(*) from patterns")" = 3 &&
	test "$(q "select count(*) from pattern_discovery_metrics")" = 4 &&
	test "$(q "select count(*) from video_patterns")" = 9 &&
	test "$(q "select count(*) from video_clusters")" = 60 &&
	test "$(q "select count(distinct run_id) from video_clusters")" = 1'

# readers see the old set or the new one, never a mix
gen_stream --videos 3000 --dim 8 --seed 2 --variant 1 >"$TMP/big2.ndjson"
mkfifo "$TMP/fifo"
( pd-store --no-passthrough "$TMP/fifo" >"$TMP/bg.out" 2>"$TMP/bg.err"; echo $? >"$TMP/bg.rc" ) &
exec 7>"$TMP/fifo"
head -n 2000 "$TMP/big2.ndjson" >&7
wait_store_backend; started=$?
mid_active=$(q "select string_agg(id, ${Q},${Q} order by id) from active_patterns")
mid_runs=$(q "select count(*) from discovery_runs")
tail -n +2001 "$TMP/big2.ndjson" >&7
exec 7>&-
wait
expect 'during a run readers see the old active set; after it, the new one' '
	test $started = 0 && test "$mid_active" = "p0-0,p0-1,p0-2" && test "$mid_runs" = 1 &&
	test "$(cat "$TMP/bg.rc")" = 0 &&
	test "$(q "select string_agg(id, ${Q},${Q} order by id) from active_patterns")" = "p1-0,p1-1,p1-2,p1-3"'

gen_stream --videos 20 --dim 8 --seed 5 --variant 2 --dup --bad-dim >"$TMP/bad.ndjson"
printf '%s\n' '{"type":"video","id":"broken",' '{"type":"pattern","id":"nopt"}' \
	'{"type":"video","id":"nul","title":"a\u0000b"}' \
	'{"type":"pattern","id":"contra","pattern_type":"title","feature":{"kind":"ngram","value":"x"},"stats":{"effect":1.5,"effect_ci":[1.6,2]}}' >>"$TMP/bad.ndjson"
IN=$TMP/bad.ndjson run pd-store --no-passthrough --rejects "$TMP/rej"
expect 'bad records are rejected with FILE:LINE, the rest stored, exit 1' '
	check_status 1 &&
	grep -q "pd-store: (stdin):6: duplicate video id .v0003. in this run" "$ERR" &&
	grep -q "pd-store: (stdin):9: video .bad-dim.: embedding has 16 dimensions, expected 8" "$ERR" &&
	grep -q "^pd-store: (stdin):[0-9]*: .*pattern_type" "$ERR" &&
	grep -q "cannot be stored" "$ERR" &&
	grep -q "^pd-store: (stdin):[0-9]*: pattern .contra.: stats: effect_ci \[1.6, 2\] does not hold effect 1.5" "$ERR" &&
	test "$(wc -l <"$TMP/rej")" = 6 &&
	test "$(q "select count(*) from videos where id in (${Q}bad-dim${Q}, ${Q}broken${Q}, ${Q}nul${Q})")" = 0 &&
	test "$(q "select count(*) from videos")" = 3000 &&
	test "$(q "select rejected from discovery_runs order by run_id desc limit 1")" = 6'

IN=$TMP/bad.ndjson run pd-store --no-passthrough --strict
expect '--strict stops at the first bad record and stores nothing' '
	check_status 1 &&
	test "$(q "select count(*) from discovery_runs")" = 3'

gen_stream --videos 5 --dim 16 --seed 9 >"$TMP/dim16.ndjson"
IN=$TMP/dim16.ndjson run pd-store --no-passthrough
expect 'a dimension change against the database is rejected, nothing half-written' '
	check_status 1 &&
	grep -q "embedding has 16 dimensions, expected 8 (as stored in the database)" "$ERR" &&
	test "$(q "select count(*) from patterns where id like ${Q}p0-%${Q} and run_id > 4")" = 0 &&
	test "$(q "select vector_dims(embedding) from videos group by 1")" = 8'

IN=$TMP/run1.ndjson run env REDIS_URL=unix://$TMP/no-such.sock pd-store --no-passthrough
expect 'a Redis outage never fails a store' '
	check_status 0 && grep -q "pd-store: redis: cannot connect" "$ERR" &&
	grep -q "caches not invalidated" "$ERR"'

printf '' >"$TMP/empty"
IN=$TMP/empty run pd-store
expect 'an empty input stores nothing and succeeds' '
	check_status 0 && test "$(wc -l <"$OUT")" = 1 &&
	test "$(q "select count(*) from discovery_runs")" = "$(q "select count(*) from discovery_runs")"'

since=$(q "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
q "update videos set views = views + 1, updated_at = now() + interval '1 second' where id in ('v0001', 'v0002')" >/dev/null
run pd-fetch --pg --since "$since" --no-metric
expect 'pd-fetch --pg --since: only the videos updated after the time' '
	check_status 0 && test "$(jq -r .id "$OUT" | tr "\n" " ")" = "v0001 v0002 "'

runs_before=$(q "select count(*) from discovery_runs")
active_before=$(q "select run_id from discovery_runs where status = ${Q}active${Q}")
echo '{"type":"metric","stage":"report","seconds":1.5,"pages":3}' >"$TMP/m1"
echo '{"type":"metric","stage":"report","seconds":2.5,"pages":4}' >"$TMP/m2"
IN=$TMP/m1 run pd-store --no-passthrough; s1=$status
IN=$TMP/m2 run pd-store --no-passthrough; s2=$status
expect 'metric-only inputs are runs of their own (loaded), the active set stays' '
	test $s1 = 0 && test $s2 = 0 &&
	test "$(q "select count(*) from discovery_runs")" = $((runs_before + 2)) &&
	test "$(q "select run_id from discovery_runs where status = ${Q}active${Q}")" = "$active_before" &&
	test "$(q "select string_agg(data->>${Q}pages${Q}, ${Q},${Q} order by run_id) from pattern_discovery_metrics where stage = ${Q}report${Q}")" = "3,4"'

# beyond 2,000 dimensions: halfvec, still HNSW-indexed
store_db_drop
store_db t0800_half
gen_stream --videos 20 --dim 2500 --seed 3 >"$TMP/half.ndjson"
IN=$TMP/half.ndjson run pd-store --no-passthrough --video-index
expect 'a 2,500-d stream is stored as halfvec(2500) with HNSW halfvec_cosine_ops' '
	check_status 0 &&
	test "$(q "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = ${Q}videos${Q}::regclass and attname = ${Q}embedding${Q}")" = "halfvec(2500)" &&
	test "$(q "select count(*) from pg_indexes where indexdef like ${Q}%hnsw%halfvec_cosine_ops%${Q}")" = 3 &&
	test "$(q "select count(*) from videos where vector_dims(embedding) = 2500")" = 20'

test_done
