#!/usr/bin/env bash
# t1240-match-services.sh — pd-match against the real PostgreSQL and Redis
# (started by tests/run): patterns and the cluster hierarchy from the
# database's active run, videos given only by id (read from PostgreSQL, then
# from the Redis cache), the cache keys and hit rate, a video's place cached
# 6 hours under the run, Redis down (one warning, same answers), unknown
# ids, and a long-running coprocess reloading the patterns when pd-store
# stores a new run (the generation pd:gen changes).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fake.sh"
. "$(dirname "$0")/lib/store.sh"
. "$(dirname "$0")/lib/coproc.sh"

if ! store_db t1200_match; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
trap 'store_db_drop; _tap_cleanup' EXIT
EX=$PD_TOP/examples
P=$EX/match-patterns.ndjson
C=$EX/match-clusters.ndjson
rcli() { redis-cli -s "${REDIS_URL#unix://}" "$@"; }
jsel() { jq -n -e "[inputs | select($2)] | length >= 1 and all(.[]; $3)" "$1" >/dev/null; }
have_redis=0
[ -n "${REDIS_URL:-}" ] && rcli ping >/dev/null 2>&1 && have_redis=1

grep '"type":"video"' "$EX/match-videos.ndjson" >"$TMP/videos.ndjson"
jq -c '{type, id}' "$TMP/videos.ndjson" >"$TMP/ids.ndjson"
echo '{"type":"video","id":"nope"}' >"$TMP/unknown.ndjson"

run pd-store --quiet --no-passthrough "$C" "$P" "$TMP/videos.ndjson"
expect 'pd-store loads the clusters, patterns and videos' 'check_status 0'

# the reference: embeddings in the input, patterns and clusters from the files
REDIS_URL= run pd-match --patterns "$P" --clusters "$C" --group --recommend --no-metric "$TMP/videos.ndjson"
cp "$OUT" "$TMP/ref.out"
REDIS_URL= run pd-match --group --recommend "$TMP/videos.ndjson"
expect 'patterns and hierarchy from the active run answer as the files do' '
	check_status 0 && test -s "$TMP/ref.out" && diff <(no_metric "$OUT") "$TMP/ref.out" &&
	test ! -s "$ERR" && tail -n 1 "$OUT" | jq -e ".applies_by == \"hierarchy\" and .clusters == 12" &&
	jsel "$OUT" ".video_id == \"v6\"" ".cluster.micro == \"c-grill\""'
REDIS_URL= run pd-match --group --recommend "$TMP/ids.ndjson"
expect 'videos given only by id: read from PostgreSQL, the same answers' '
	check_status 0 && diff <(no_metric "$OUT") "$TMP/ref.out"'
REDIS_URL= run pd-match --group "$TMP/unknown.ndjson"
expect 'an id that is not stored is rejected with FILE:LINE' '
	check_status 1 && grep -q "unknown.ndjson:1: video .nope. has no embedding and is not stored" "$ERR"'

if [ $have_redis = 1 ]; then
	run pd-match --group --recommend "$TMP/ids.ndjson"
	cp "$OUT" "$TMP/first.out"
	run pd-match --group --recommend "$TMP/ids.ndjson"
	expect 'Redis: a second run answers from the cache, same answers, hit rate in the metric' '
		check_status 0 && diff <(no_metric "$OUT") "$TMP/ref.out" &&
		tail -n 1 "$TMP/first.out" | jq -e ".cache_hits == 0 and .cache_misses > 0" &&
		tail -n 1 "$OUT" | jq -e ".cache_hit_rate == 1 and .cache_hits > 0"'
	gen=$(rcli get pd:gen)
	run_id=$(psql -X -A -t -q "$DATABASE_URL" -c "SELECT run_id FROM discovery_runs WHERE status = 'active'")
	expect 'Redis: keys carry the generation; records 24 h, answers 1 h, places 6 h under the run' '
		k=$(rcli --scan --pattern "pd:emb:$gen:*:v1" | head -n 1) && test -n "$k" &&
		t=$(rcli ttl "$k") && [ "$t" -gt 86000 ] && [ "$t" -le 86400 ] &&
		k=$(rcli --scan --pattern "pd:match:$gen:*:v1" | head -n 1) && test -n "$k" &&
		t=$(rcli ttl "$k") && [ "$t" -gt 3500 ] && [ "$t" -le 3600 ] &&
		test -n "$run_id" && k=$(rcli --scan --pattern "pd:place:$gen:*:r$run_id:v1" | head -n 1) && test -n "$k" &&
		t=$(rcli ttl "$k") && [ "$t" -gt 21500 ] && [ "$t" -le 21600 ] &&
		test "$(rcli get "$k")" = "$(printf "food\tfood.baking\tc-bread")" &&
		k=$(rcli --scan --pattern "pd:place:$gen:*:r$run_id:v6" | head -n 1) &&
		test "$(rcli get "$k")" = "$(printf "food\tfood.grill\tc-grill")"'
	# the place is read from the cache: plant another one for v1 (the answer
	# cache out of the way), and an unusable one for v6 (not a path: placed again)
	for k in $(rcli --scan --pattern "pd:match:$gen:*"); do rcli del "$k" >/dev/null; done
	for k in $(rcli --scan --pattern "pd:place:$gen:*:v1"); do rcli set "$k" "$(printf "tips\ttips.quick\tc-tips")" >/dev/null; done
	for k in $(rcli --scan --pattern "pd:place:$gen:*:v6"); do rcli set "$k" "$(printf "tips\tfood.grill\tc-grill")" >/dev/null; done
	run pd-match --group --recommend "$TMP/ids.ndjson"
	expect 'Redis: a video'"'"'s place is taken from the cache (a planted one shows), an unusable one is placed again' '
		check_status 0 && jsel "$OUT" ".video_id == \"v1\"" ".cluster.micro == \"c-tips\" and [.matches[].pattern_id] == [\"p-short\"]" &&
		jsel "$OUT" ".video_id == \"v6\"" ".cluster.meso == \"food.grill\" and [.matches[].pattern_id] == [\"p-mid\"]" &&
		tail -n 1 "$OUT" | jq -e ".place_cache_hits >= 6"'
	for k in $(rcli --scan --pattern "pd:match:$gen:*") $(rcli --scan --pattern "pd:place:$gen:*"); do rcli del "$k" >/dev/null; done
	run pd-match --group --recommend "$TMP/ids.ndjson"
	expect 'Redis: the places cached again are the right ones' '
		check_status 0 && diff <(no_metric "$OUT") "$TMP/ref.out"'
	# a stored record changed behind the cache is not seen until the generation changes:
	# prove the cache is really read by planting a different answer under v1's key
	for k in $(rcli --scan --pattern "pd:match:$gen:*:v1"); do
		rcli set "$k" $'{"type":"match_group","video_id":"v1","matches":[],"planted":true}\n' >/dev/null
	done
	run pd-match --group --recommend "$TMP/ids.ndjson"
	expect 'Redis: the answer cache is what answers an id' '
		check_status 0 && head -n 1 "$OUT" | jq -e ".planted == true"'
	for k in $(rcli --scan --pattern "pd:match:$gen:*:v1"); do rcli del "$k" >/dev/null; done
	echo '{"type":"video","id":"v8","title":"New one","embedding":[0,0,1,0]}' >"$TMP/v8.ndjson"
	run pd-store --quiet --no-passthrough "$C" "$P" "$TMP/videos.ndjson" "$TMP/v8.ndjson"
	run pd-match --group --recommend --no-metric "$TMP/ids.ndjson"
	expect 'a new generation (pd-store) leaves the old keys behind' '
		check_status 0 && test "$(rcli get pd:gen)" != "$gen" && cmp "$OUT" "$TMP/ref.out"'
else
	skip 'Redis cache' 'REDIS_URL unset or Redis unreachable'
fi

if [ $have_redis = 1 ]; then
	# provider embeddings of drafts are cached 24 h: a second run sends nothing
	fake_start "$PD_TOP/tests/fake_openai_embed.py" --dim 4 --log "$TMP/oai.log" --max-seconds 120
	printf '%s\n' '{"type":"draft","ref":"d1","title":"How to bake rye bread '"$$"'"}' >"$TMP/od.ndjson"
	: >"$TMP/oai.log"
	PD_EMBED_URL=$FAKE_URL/v1 PD_EMBED_MODEL=fake-1 \
		run pd-match --patterns "$P" --group "$TMP/od.ndjson"
	cp "$OUT" "$TMP/od1.out"
	PD_EMBED_URL=$FAKE_URL/v1 PD_EMBED_MODEL=fake-1 \
		run pd-match --patterns "$P" --group "$TMP/od.ndjson"
	fake_stop
	expect 'Redis: a draft embedded by the provider once is answered from the cache the next time' '
		check_status 0 && test "$(wc -l <"$TMP/oai.log")" = 1 &&
		diff <(no_metric "$OUT") <(no_metric "$TMP/od1.out") &&
		tail -n 1 "$TMP/od1.out" | jq -e ".provider_embedded == 1" &&
		tail -n 1 "$OUT" | jq -e ".cache_hits == 1"'
fi

REDIS_URL=unix:///nonexistent/redis.sock run pd-match --group --recommend "$TMP/ids.ndjson"
expect 'Redis down: one warning, the same answers, exit 0' '
	check_status 0 && diff <(no_metric "$OUT") "$TMP/ref.out" &&
	test "$(wc -l <"$ERR")" = 1 && grep -q "without the cache" "$ERR"'
REDIS_URL=redis://127.0.0.1:1/0 run pd-match --group --recommend "$TMP/ids.ndjson"
expect 'Redis refusing connections on TCP: one warning, the same answers' '
	check_status 0 && diff <(no_metric "$OUT") "$TMP/ref.out" && test "$(wc -l <"$ERR")" = 1'

DATABASE_URL="postgresql://postgres@/nosuchdb_pd?host=/nonexistent" REDIS_URL= \
	run pd-match --group "$TMP/ids.ndjson"
expect 'no database reachable: exit 3 with a message' 'check_status 3 && grep -q "pd-match: " "$ERR"'

if [ $have_redis = 1 ]; then
	# long-running: a new run stored by pd-store reloads the active set
	cop_start "$TMP/cp.err" pd-match --group --unbuffered
	# (no $(...) around ask: ans is set in this shell)
	ask() { cop_send "$1"; cop_recv ans; }
	ask '{"type":"video","id":"v1"}'
	a1=$(jq -c '[.matches[].pattern_id]' <<<"$ans")
	jq -c 'select(.id == "p-howto") | .id = "p-howto-2"' "$P" >"$TMP/p2.ndjson"
	pd-store --quiet --no-passthrough "$C" "$TMP/p2.ndjson" >/dev/null 2>&1
	# pd-match looks at the generation after an answer, at most once a
	# second: ask again until the new set answers (for at most ~30 s)
	a2=$a1 asked=0
	while [ "$a2" != '["p-howto-2"]' ] && [ $asked -lt 150 ]; do
		sleep 0.2
		ask '{"type":"video","id":"v1"}'
		asked=$((asked + 1))
		[ -n "$ans" ] || break		# no answer: the coprocess is gone
		a2=$(jq -c '[.matches[].pattern_id]' <<<"$ans")
	done
	cop_stop
	expect 'a long-running pd-match reloads the patterns when the generation changes' '
		echo "$a1 -> $a2 after $asked questions, exit status $COP_STATUS" &&
		test "$a1" = "[\"p-howto\",\"p-mid\",\"p-question\"]" &&
		test "$a2" = "[\"p-howto-2\"]" && test "$COP_STATUS" = 0 && test ! -s "$TMP/cp.err" || { cat "$TMP/cp.err"; exit 1; }'
else
	skip 'pattern reload on a new generation' 'no Redis'
fi

# an active run without clusters: the radius rule, with one warning
jq -c 'select(.id == "p-short") | .id = "p-short-3"' "$P" >"$TMP/p3.ndjson"
run pd-store --quiet --no-passthrough "$TMP/p3.ndjson"
REDIS_URL= run pd-match --group "$TMP/videos.ndjson"
expect 'an active run without clusters: patterns apply by radius, one warning' '
	check_status 0 && grep -q "no cluster hierarchy" "$ERR" && test "$(wc -l <"$ERR")" = 1 &&
	jsel "$OUT" ".video_id == \"v3\"" "[.matches[].pattern_id] == [\"p-short-3\"] and (has(\"cluster\") | not)" &&
	tail -n 1 "$OUT" | jq -e ".applies_by == \"radius\""'
REDIS_URL= run pd-match --clusters "$C" --group --no-metric "$TMP/videos.ndjson"
expect '--clusters FILE with the active set'"'"'s patterns' '
	check_status 0 && test ! -s "$ERR" && jsel "$OUT" ".video_id == \"v3\"" ".cluster.micro == \"c-tips\" and [.matches[].pattern_id] == [\"p-short-3\"]"'
test_done
