#!/usr/bin/env bash
# pd-embed --provider openai against a loopback OpenAI-compatible server
# (tests/fake_openai_embed.py) through the production HTTP client: batches,
# "dimensions" and base64 requested, the bearer key, replies placed by index,
# retries on 429/5xx, a concurrency limit, protocol violations and failures.
. "$(dirname "$0")/lib/tap.sh"
EX="$PD_TOP/examples/embed-input.ndjson"
KEY=sekrit-$$-key
export PD_HTTP_BACKOFF_MS=20 PD_HTTP_MAX_BACKOFF_MS=200
. "$(dirname "$0")/lib/fake.sh"
start() {	# start ARGS...: the fake server, its log in $LOG, PD_EMBED_* exported
	LOG=$TMP/log.$RANDOM
	: >"$LOG"
	fake_start "$PD_TOP/tests/fake_openai_embed.py" "$@" --log "$LOG" --max-seconds 120
	export PD_EMBED_URL=$FAKE_URL/v1
	export PD_EMBED_MODEL=fake-embed-$$ PD_EMBED_API_KEY=$KEY
}
stop() { fake_stop; }
nreq() { grep -c '"method": "POST"' "$LOG"; }

start --key "$KEY"
run pd-embed --provider openai --dims 24 --batch 16 "$EX"
cp "$OUT" "$TMP/o1.ndjson"
expect 'embeds every video through the endpoint, exit 0' '
	check_status 0 && [ "$(jq -c "select(.type==\"video\" and (.embedding_b64|length) == 128)" "$OUT" | wc -l)" = 60 ]'
expect 'batches of 16: 4 requests with model, base64, dimensions and the bearer key' '
	[ "$(nreq)" = 4 ] && jq -e -s "map(select(.method==\"POST\")) | all(.path == \"/v1/embeddings\" and
		.headers.authorization == \"Bearer $KEY\" and (.body | fromjson | .model == \"$PD_EMBED_MODEL\" and
		.encoding_format == \"base64\" and .dimensions == 24 and (.input | length) <= 16))" "$LOG"'
expect 'embeddings are placed by index (reply in reverse order), records in input order' '
	/usr/bin/python3 - "$EX" "$TMP/o1.ndjson" "$PD_TOP/tests" <<PYEOF
import json, sys, base64, struct
sys.path.insert(0, sys.argv[3])
from fake_openai_embed import embed
inp = [json.loads(l) for l in open(sys.argv[1])]
out = [json.loads(l) for l in open(sys.argv[2]) if not l.startswith("{\"type\":\"metric\"")]
assert [r.get("id") for r in inp] == [r.get("id") for r in out]
for r in out:
    if r["type"] != "video": continue
    text = r["title"] + ("\n" + ", ".join(r["tags"]) if r["tags"] else "") + ("\n" + r["description"] if r.get("description") else "")
    got = struct.unpack("<24f", base64.b64decode(r["embedding_b64"]))
    want = embed(text, 24)
    assert max(abs(a - b) for a, b in zip(got, want)) < 1e-6, r["id"]
PYEOF'
jq -c 'if .type=="video" and (.id|test("ex00[1-5]")) then .embedding_b64="AACAPwAAAAA=" else . end' "$EX" >"$TMP/pre.ndjson"
start
export PD_EMBED_API_KEY=
run pd-embed --provider openai --batch 10 "$TMP/pre.ndjson"
expect 'records with an embedding pass through; no key, no dimensions when not asked' '
	check_status 0 && [ "$(jq -c "select(.embedding_b64==\"AACAPwAAAAA=\")" "$OUT" | wc -l)" = 5 ] &&
	jq -e -s "map(select(.method==\"POST\")) | all((.headers.authorization == null) and
		(.body | fromjson | has(\"dimensions\") | not))" "$LOG" &&
	[ "$(jq -s "map(select(.method==\"POST\") | .body | fromjson | .input | length) | add" "$LOG")" = 55 ]'
export PD_EMBED_API_KEY=$KEY
start --fault 'embeddings=503x2' --fault 'embeddings=429x1,retry-after=0'
run pd-embed --provider openai --batch 100 "$EX"
expect '503, 503, 429 then success: retried, exit 0' 'check_status 0 && [ "$(nreq)" = 4 ] &&
	[ "$(jq -c "select(.type==\"video\" and .embedding_b64)" "$OUT" | wc -l)" = 60 ]'
start --delay 0.4
t0=$(date +%s.%N)
run pd-embed --provider openai --batch 4 --concurrency 4 "$EX"
t1=$(date +%s.%N)
expect 'concurrency: 15 slow requests, 4 at a time, take about 4 rounds of 0.4 s' '
	check_status 0 && [ "$(nreq)" = 15 ] && /usr/bin/python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print(d); sys.exit(0 if 1.5 < d < 4.5 else 1)" "$t0" "$t1"'
start --fault 'embeddings=500x0'
run pd-embed --provider openai "$EX"
expect 'a server that keeps failing: exit 3 after bounded retries' 'check_status 3 && grep -q "500" "$ERR"'
start --key other
run pd-embed --provider openai "$EX"
expect 'a wrong key: exit 3, the server says why, the key is not printed' '
	check_status 3 && grep -q "401" "$ERR" && grep -q "Incorrect API key" "$ERR" && ! grep -q "$KEY" "$ERR"'
for mode in badindex wrongdim nodata; do
	start --mode $mode
	run pd-embed --provider openai "$EX"
	expect "a reply that breaks the protocol ($mode): exit 3 with a message" 'check_status 3 && [ -s "$ERR" ]'
done
stop
export PD_EMBED_URL=http://127.0.0.1:1/v1 PD_HTTP_MAX_RETRIES=1
run pd-embed --provider openai "$EX"
expect 'nothing listening: exit 3' 'check_status 3'
unset PD_EMBED_URL
run pd-embed --provider openai "$EX"
expect 'no PD_EMBED_URL: usage error' 'check_status 2 && grep -q PD_EMBED_URL "$ERR"'
run pd-embed --provider other "$EX"
expect 'an unknown provider: usage error' 'check_status 2'
test_done
