#!/usr/bin/env bash
# pd-validate's LLM review against a loopback OpenAI-compatible server
# (tests/fake_openai_chat.py): verdicts matched by id whatever the order,
# malformed replies, bad fields, 429 with Retry-After, 500s, a hang, the
# cache (file, and Redis when REDIS_URL is set), the API key as a bearer token
# that is never printed.  A failed review never rejects a pattern.
. "$(dirname "$0")/lib/tap.sh"

# six clusters, each with one real n-gram (perf x3); "boring5" is the one the
# fake model judges not meaningful
/usr/bin/python3 - >"$TMP/in.ndjson" <<'PY'
import json, math, random
random.seed(3)
words = ["game", "live", "new", "best", "video", "day", "world", "music", "official", "full"]
n = 0
pats = []
for cl in range(6):
    w = "boring%d" % cl if cl == 5 else "tut%d" % cl
    for k in range(200):
        n += 1
        t = random.sample(words, 4)
        mult = 1.0
        if random.random() < 0.3:
            t.insert(2, w); mult = 3.0
        print(json.dumps({"type": "video", "id": "v%d" % n, "channel_id": "ch%d_%d" % (cl, random.randrange(20)),
                          "title": " ".join(t), "perf": round(math.exp(random.gauss(0, 0.8)) * mult, 4),
                          "holdout": k >= 120, "cluster": {"macro": "m0", "meso": "s%d" % cl, "micro": "c%d" % cl}}))
    pats.append({"type": "pattern", "id": "p%016x" % (cl + 1), "feature": {"kind": "ngram", "value": w},
                 "direction": "positive", "cluster": "c%d" % cl, "level": "micro",
                 "stats": {"p": 1e-9, "threshold": 2.0}, "examples": ["v%d" % (cl * 200 + 1)], "status": "candidate"})
for p in pats:
    print(json.dumps(p))
print(json.dumps({"type": "mine_summary", "tests": 100}))
PY
KEY=sekrit-$$-key
export PD_HTTP_BACKOFF_MS=50 PD_HTTP_MAX_BACKOFF_MS=3000
. "$(dirname "$0")/lib/fake.sh"
start() {	# start MODE ARGS...: the fake server, its log in $LOG, PD_LLM_* exported
	n_start=$(( ${n_start:-0} + 1 ))
	LOG=$TMP/log.$n_start
	: >"$LOG"
	fake_start "$PD_TOP/tests/fake_openai_chat.py" --mode "$@" --log "$LOG" --max-seconds 300
	port=$FAKE_PORT
	export PD_LLM_URL=$FAKE_URL/v1
	export PD_LLM_MODEL=fake-$$-$n_start-$RANDOM PD_LLM_API_KEY=$KEY
}
stop() { fake_stop; }
V() { pd-validate --llm --llm-batch 2 --llm-cache "$TMP/cache.$PD_LLM_MODEL" "$@" "$TMP/in.ndjson"; }
nreq() { grep -c '"method": "POST"' "$LOG"; }
ids_named_right='{ [ "$(jq -r "select(.type==\"pattern\") | select(.name != \"Name of \" + .id or .validation.llm.name != .name) | .id" "$OUT" | wc -l)" = 0 ] ||
	{ echo "requests: $(jq -r .status "$LOG" | tr "\n" " ")"; cat "$ERR"; jq -c "select(.type==\"pattern\") | [.id, .validation.llm]" "$OUT"; false; }; }'

start good
run V
expect "good replies: exit 0, six validated patterns, three requests of two" '
	check_status 0 && [ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\") | .id" "$OUT" | wc -l)" = 6 ] &&
	[ "$(nreq)" = 3 ]'
expect "every verdict belongs to its pattern (name, description, pattern_data)" "$ids_named_right"' &&
	jrec "$OUT" p0000000000000001 ".description == \"About titles containing \\\"tut0\\\"\" and .pattern_data.name == .name"'
expect "the verdict has the original fields, checked" '
	jrec "$OUT" p0000000000000002 ".validation.llm | .is_meaningful == true and .actionability_score == 7 and
		(.why_it_works|length > 0) and .best_use_cases == [\"tutorial series\"] and .warnings == [\"seasonal\"] and
		.semantic_category == \"instruction\" and .confidence == 0.8 and .cached == false"'
expect "a pattern judged not meaningful stays validated without --llm-reject" '
	jrec "$OUT" p0000000000000006 ".status == \"validated\" and .validation.llm.is_meaningful == false"'
expect "requests: model, system + user messages with the patterns and example titles, bearer key" '
	jq -e -s "map(select(.method==\"POST\")) | all(.path == \"/v1/chat/completions\" and
		.headers.authorization == \"Bearer $KEY\" and (.body | fromjson | .model == \"$PD_LLM_MODEL\" and
		(.messages | length) == 2 and (.messages[1].content | fromjson | .patterns | length) == 2 and
		(.messages[1].content | fromjson | .patterns[0].example_titles | length) == 1))" "$LOG" >/dev/null'
expect "the API key is never printed" '! grep -q "$KEY" "$OUT" "$ERR"'
expect "the metric counts requests and verdicts" '
	tail -n 1 "$OUT" | jq -e ".llm_requests == 3 and .llm_verdicts == 6 and .llm_unavailable == 0" >/dev/null'
cp "$OUT" "$TMP/good.out"
n_before=$(nreq)
run V
expect "file cache: a second run makes no request and marks verdicts cached" '
	check_status 0 && [ "$(nreq)" = "$n_before" ] && jrec "$OUT" p0000000000000003 ".validation.llm.cached == true" &&
	tail -n 1 "$OUT" | jq -e ".llm_cache_hits == 6 and .llm_requests == 0" >/dev/null &&
	cmp <(no_metric "$OUT" | sed "s/\"cached\":true/\"cached\":false/") <(no_metric "$TMP/good.out")'
run V --llm-reject
expect "--llm-reject rejects what the model finds not meaningful" '
	check_status 0 && ! grep -q "\"id\":\"p0000000000000006\"" "$OUT" && grep -q "\"id\":\"p0000000000000005\"" "$OUT"'
run pd-validate --no-llm "$TMP/in.ndjson"
expect "--no-llm: no review even with PD_LLM_URL set" '
	check_status 0 && jrec "$OUT" p0000000000000001 ".validation.llm == \"off\"" && [ "$(nreq)" = "$n_before" ]'
export PD_LLM_MODEL=fake-$$-$RANDOM
run pd-validate --llm-cache "$TMP/cache.implicit" "$TMP/in.ndjson"
expect "PD_LLM_URL alone turns the review on" 'check_status 0 && '"$ids_named_right"
if [ -n "${REDIS_URL:-}" ]; then
	export PD_LLM_MODEL=fake-redis-$$-$RANDOM
	n0=$(nreq)
	run pd-validate --llm --llm-cache "$TMP/cache.redis" "$TMP/in.ndjson"
	n1=$(nreq)
	run pd-validate --llm --llm-cache "$TMP/cache.redis" "$TMP/in.ndjson"
	expect "Redis cache: the second run asks nothing, no cache file written" '
		check_status 0 && [ "$n1" -gt "$n0" ] && [ "$(nreq)" = "$n1" ] && [ ! -e "$TMP/cache.redis" ] &&
		jrec "$OUT" p0000000000000001 ".validation.llm.cached == true"'
else
	skip "Redis cache" "no REDIS_URL"
fi

start shuffle
run V
expect "replies in another order (and an unknown id): matched by id" 'check_status 0 && '"$ids_named_right"

start fence
run V
expect "content inside a \`\`\`json fence is read" 'check_status 0 && '"$ids_named_right"

start malformed
run V
expect "malformed JSON (asked twice): llm unavailable with the reason, patterns still validated, exit 0" '
	check_status 0 && [ "$(nreq)" = 6 ] && [ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\" and .validation.llm==\"unavailable\" and
		(.validation.llm_error|test(\"JSON\"))) | .id" "$OUT" | wc -l)" = 6 ] && grep -q "statistical verdict stands" "$ERR"'
run V
expect "unavailable verdicts are not cached" '[ "$(nreq)" = 12 ]'

start malformed1
run V --llm-concurrency 1
expect "a malformed reply is asked again once, then every verdict is in" '
	check_status 0 && [ "$(nreq)" = 4 ] && '"$ids_named_right"

start badfield
run V
expect "a review with a bad field: that pattern unavailable, the others reviewed" '
	check_status 0 && [ "$(jq -r "select(.type==\"pattern\" and (.validation.llm_error // \"\" | test(\"actionability_score\"))) | .id" "$OUT" | wc -l)" = 3 ] &&
	[ "$(jq -r "select(.type==\"pattern\" and (.validation.llm|type) == \"object\") | .id" "$OUT" | wc -l)" = 3 ] &&
	[ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\") | .id" "$OUT" | wc -l)" = 6 ]'

start missing
run V
expect "a pattern without a review in the reply: unavailable" '
	check_status 0 && jrec "$OUT" p0000000000000001 ".validation.llm == \"unavailable\" and (.validation.llm_error|test(\"no review\"))" &&
	jrec "$OUT" p0000000000000002 ".validation.llm.name == \"Name of p0000000000000002\""'

start good --fault 'chat/completions=429x1,retry-after=1'
t0=$(date +%s.%N)
run V --llm-concurrency 1
t1=$(date +%s.%N)
expect "429 with Retry-After: waited, retried, every verdict in" '
	check_status 0 && [ "$(nreq)" = 4 ] && grep -q "\"status\": 429" "$LOG" && '"$ids_named_right"' &&
	awk -v a="$t0" -v b="$t1" "BEGIN { exit !(b - a >= 1.0) }" && grep -q "retry 1" "$ERR"'

start good --fault 'chat/completions=500x2'
run V --llm-concurrency 1
expect "500s then success: retried, every verdict in" '
	check_status 0 && [ "$(nreq)" = 5 ] && '"$ids_named_right"

start good --key wrong-key
run V
expect "401 (wrong key): unavailable at once, no retries, not rejected" '
	check_status 0 && [ "$(nreq)" = 3 ] && jrec "$OUT" p0000000000000004 ".status == \"validated\" and .validation.llm == \"unavailable\" and
		(.validation.llm_error | test(\"401\"))" && ! grep -q "$KEY" "$ERR"'

start good --hang 'chat/completions=60'
t0=$(date +%s)
run env PD_HTTP_MAX_RETRIES=1 pd-validate --llm --llm-batch 2 --llm-timeout 1 --llm-cache "$TMP/cache.hang" "$TMP/in.ndjson"
t1=$(date +%s)
expect "a hanging server: bounded by the timeout, llm unavailable, patterns NOT rejected" '
	check_status 0 && [ $((t1 - t0)) -lt 20 ] &&
	[ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\" and .validation.llm==\"unavailable\") | .id" "$OUT" | wc -l)" = 6 ]'
stop
run env PD_LLM_URL=http://127.0.0.1:1/v1 PD_HTTP_MAX_RETRIES=0 pd-validate --llm-cache "$TMP/c.refused" "$TMP/in.ndjson"
expect "connection refused: unavailable, exit 0" '
	check_status 0 && jrec "$OUT" p0000000000000001 ".status == \"validated\" and .validation.llm == \"unavailable\""'
test_done
