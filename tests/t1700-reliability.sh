#!/usr/bin/env bash
# t1700-reliability.sh — regressions of issue 15 that belong to no one command:
# temporary files in TMPDIR (pd-cluster, pd-embed, pd-mine), out-of-range and
# wrongly typed fields of video records, the CSV reader's field buffer growth,
# and an LLM error message kept whole.  (The CSV quote resync is in
# t0210-fetch-bad-input.sh, pd-store's statuses in t0810-store-faults.sh.)
. "$(dirname "$0")/lib/tap.sh"

# ---- TMPDIR ------------------------------------------------------------------
# Every command that spills to a temporary file makes it in $TMPDIR; a TMPDIR
# that does not exist is an error naming it (tmpfile() silently used /tmp).
nodir=$TMP/no/such/dir
echo '{"type":"note"}' >"$TMP/one.ndjson"
# a file operand is read twice in place; with --rejects, over-long lines wait
# in a spill file (cmd/ahead.c)
for c in "pd-mine --holdout 0.2" "pd-embed" "pd-cluster" "pd-cluster --rejects /dev/null FILE"; do
	run env TMPDIR="$nodir" ${c/FILE/$TMP/one.ndjson}
	expect "$c: TMPDIR that does not exist: exit 3 naming it" '
		check_status 3 && grep -q "^${c%% *}: cannot create a temporary file in .$nodir.: No such file" "$ERR"'
done
# the spill file lives in TMPDIR while the command runs, and is gone after
mkdir "$TMP/spill"
mkfifo "$TMP/fifo"
TMPDIR=$TMP/spill pd-mine --holdout 0.2 --no-metric <"$TMP/fifo" >"$TMP/m.out" 2>"$TMP/m.err" &
pid=$!
exec 8>"$TMP/fifo"
echo '{"type":"note","n":1}' >&8
seen=
for _ in $(seq 100); do
	if ls -l /proc/$pid/fd 2>/dev/null | grep -q -- "-> $TMP/spill/pd\..* (deleted)"; then seen=1; break; fi
	sleep 0.05
done
exec 8>&-
wait $pid
status=$?
if [ -d /proc/self/fd ]; then
	expect "pd-mine --holdout spills into TMPDIR, an unlinked file" '
		check_status 0 && [ "$seen" = 1 ] && [ -z "$(ls -A "$TMP/spill")" ] &&
		grep -q "\"type\":\"note\"" "$TMP/m.out"'
else
	skip "pd-mine --holdout spills into TMPDIR, an unlinked file" "no /proc"
fi

# ---- video records: ranges and types -----------------------------------------
printf '%s\n' '{"type":"video","id":"ok","views":1}' \
	'{"type":"video","id":"b1","perf_basis":2e58}' \
	'{"type":"video","id":"b2","comments":1e300}' \
	'{"type":"video","id":"b3","cluster":"m1"}' \
	'{"type":"video","id":"b4","holdout":"yes"}' \
	'{"type":"video","id":"b5","cluster_sim":"x"}' \
	'{"type":"video","id":"b6","perf_basis":2.5}' \
	'{"type":"video","id":"ok2","perf_basis":7,"comments":12,"cluster":{"macro":"m1"},"holdout":false,"cluster_sim":0.5}' \
	>"$TMP/bad.ndjson"
run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/bad.ndjson"
expect "video fields out of range or of the wrong type are rejected, each named" '
	check_status 1 &&
	grep -q "bad.ndjson:2: .perf_basis. is not a whole number from 0 to 2147483647" "$ERR" &&
	grep -q "bad.ndjson:3: .comments. is over 9e+15" "$ERR" &&
	grep -q "bad.ndjson:4: .cluster. is not an object" "$ERR" &&
	grep -q "bad.ndjson:5: .holdout. is not true or false" "$ERR" &&
	grep -q "bad.ndjson:6: .cluster_sim. is not a number" "$ERR" &&
	grep -q "bad.ndjson:7: .perf_basis. is not a whole number" "$ERR"'
expect "the bad video records go whole to --rejects, the good ones out" '
	[ "$(wc -l <"$TMP/rej")" = 6 ] && [ "$(jq -r .id "$OUT" | tr "\n" " ")" = "ok ok2 " ]'
printf '%s\n' '{"type":"video","id":"m1","title":"a","perf":1,"cluster":"m1"}' \
	'{"type":"video","id":"m2","title":"a","perf":1,"holdout":"yes","cluster":{"micro":"c"}}' >"$TMP/m.ndjson"
run pd-validate --no-metric "$TMP/m.ndjson"
expect "pd-validate too rejects them (the same reader)" '
	check_status 1 && grep -q "m.ndjson:1: .cluster. is not an object" "$ERR" &&
	grep -q "m.ndjson:2: .holdout. is not true or false" "$ERR"'
printf 'video_id,title,view_count,comment_count\r\nc1,t,1e300,1\r\nc2,t,5,1\r\n' >"$TMP/big.csv"
run pd-fetch --no-metric "$TMP/big.csv"
expect "a CSV count over 9e15 is rejected too" '
	check_status 1 && grep -q "big.csv:2: views is not a count" "$ERR" && [ "$(jq -r .id "$OUT")" = c2 ]'

# ---- the CSV reader's field buffer -------------------------------------------
# libcsv grows a field 128 bytes at a time by default: a 10 MB field took
# ~80,000 reallocs (minutes under ASan).  Count them with a preloaded shim.
cat >"$TMP/count.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
static unsigned long n;
void *realloc(void *p, size_t size)
{
	static void *(*real)(void *, size_t);
	if (!real)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	n++;
	return real(p, size);
}
__attribute__((destructor)) static void report(void)
{
	const char *f = getenv("REALLOC_COUNT");
	FILE *o = f ? fopen(f, "w") : NULL;
	if (o) {
		fprintf(o, "%lu\n", n);
		fclose(o);
	}
}
EOF
if ldd "$PD_TOP/bin/pd-fetch" 2>/dev/null | grep -q libasan; then
	skip "a 10 MB CSV field is read with few reallocs" "ASan build (it replaces realloc)"
elif ${CC:-cc} -shared -fPIC -o "$TMP/count.so" "$TMP/count.c" -ldl 2>"$TMP/cc.err"; then
	/usr/bin/python3 -c "
import sys
sys.stdout.write('video_id,title,view_count\r\nv1,' + 'x' * 10000000 + ',5\r\nv2,ok,6\r\n')" >"$TMP/wide.csv"
	run env LD_PRELOAD="$TMP/count.so" REALLOC_COUNT="$TMP/count" pd-fetch --no-metric "$TMP/wide.csv"
	expect "a 10 MB CSV field is read with few reallocs" '
		check_status 0 && [ "$(jq -r ".title | length" "$OUT" | head -n 1)" = 10000000 ] &&
		n=$(cat "$TMP/count") && echo "reallocs: $n" && [ "$n" -lt 2000 ]'
else
	skip "a 10 MB CSV field is read with few reallocs" "cannot build the counting shim: $(head -n 1 "$TMP/cc.err")"
fi

# ---- an LLM failure message, whole -------------------------------------------
/usr/bin/python3 - >"$TMP/in.ndjson" <<'PY'
import json, math, random
random.seed(3)
words = ["game", "live", "new", "best", "video", "day", "world", "music", "official", "full"]
n = 0
for cl in range(2):
    w = "tut%d" % cl
    for k in range(200):
        n += 1
        t = random.sample(words, 4)
        mult = 1.0
        if random.random() < 0.3:
            t.insert(2, w); mult = 3.0
        print(json.dumps({"type": "video", "id": "v%d" % n, "channel_id": "ch%d_%d" % (cl, random.randrange(20)),
                          "title": " ".join(t), "perf": round(math.exp(random.gauss(0, 0.8)) * mult, 4),
                          "holdout": k >= 160, "cluster": {"macro": "m0", "meso": "s%d" % cl, "micro": "c%d" % cl}}))
    print(json.dumps({"type": "pattern", "id": "p%016x" % (cl + 1), "feature": {"kind": "ngram", "value": w},
                      "direction": "positive", "cluster": "c%d" % cl, "level": "micro",
                      "stats": {"p": 1e-9, "threshold": 2.0}, "examples": ["v%d" % (cl * 200 + 1)],
                      "status": "candidate"}))
print(json.dumps({"type": "mine_summary", "tests": 100}))
PY
. "$(dirname "$0")/lib/fake.sh"
if fake_start "$PD_TOP/tests/fake_openai_chat.py" --fault 'chat/completions=503x0,retry-after=5' --max-seconds 120; then
	# a long base URL (an Azure-style deployment path) makes the message long
	run env PD_LLM_URL="$FAKE_URL/openai/deployments/a-rather-long-deployment-name-for-this-test/v1" \
		PD_LLM_MODEL=fake-$$ PD_HTTP_TOTAL_TIMEOUT_MS=1000 PD_HTTP_MAX_RETRIES=3 \
		pd-validate --llm --llm-cache "$TMP/llm.cache" "$TMP/in.ndjson"
	expect "an LLM that gives up: the reason is kept whole" '
		check_status 0 && jq -r "select(.type == \"pattern\") | .validation.llm_error // empty" "$OUT" >"$TMP/why" &&
		[ -s "$TMP/why" ] && cat "$TMP/why" &&
		! grep -v "HTTP 503 (gave up after 1 attempt: the next wait of 5.0 s passes the total time bound of 1000 ms)\$" "$TMP/why"'
	fake_stop
else
	skip "an LLM that gives up: the reason is kept whole" "the fake server did not start"
fi
# ---- one validator of pattern records (pd-validate, pd-store, pd-match) -------
# Each absurd record is refused by all three with FILE:LINE; pd-store used to
# store most of them, and pd-match then refused the active set.
G='"type":"pattern","pattern_type":"title","cluster":"c1","level":"micro","stats":{"p":0.01}'
C='"centroid_b64":"AACAPwAAAAA="'
{
	echo "{\"id\":\"a1\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},$C,\"radius\":3}"
	echo "{\"id\":\"a2\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},$C,\"radius\":-0.1}"
	echo "{\"id\":\"a3\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},\"centroid_b64\":\"AAAAAAAAAAA=\",\"radius\":0.3}"
	echo "{\"id\":\"a4\",$G,\"feature\":{\"kind\":\"nonsense\"},$C,\"radius\":0.3}"
	echo "{\"id\":\"a5\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},$C,\"radius\":0.3,\"direction\":\"up\"}"
	echo "{\"id\":\"a6\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},$C,\"radius\":0.3,\"status\":\"maybe\"}"
	echo "{\"id\":\"a7\",$G,\"feature\":{\"kind\":\"ngram\",\"value\":\"x\"},\"centroid_b64\":\"!!\",\"radius\":0.3}"
} >"$TMP/absurd.ndjson"
n=$(wc -l <"$TMP/absurd.ndjson")
run pd-validate --keep-rejected --rejects "$TMP/rej.v" "$TMP/absurd.ndjson"
expect "pd-validate refuses every absurd pattern record, each with FILE:LINE" '
	check_status 1 && [ "$(wc -l <"$TMP/rej.v")" = "$n" ] &&
	for l in $(seq 1 "$n"); do grep -q "absurd.ndjson:$l: pattern .a$l" "$ERR" || { cat "$ERR"; exit 1; }; done'
ok_m=1
for l in $(seq 1 "$n"); do
	sed -n "${l}p" "$TMP/absurd.ndjson" >"$TMP/one-pat.ndjson"
	echo '{"type":"draft","title":"how to x"}' >"$TMP/draft.ndjson"
	run pd-match --patterns "$TMP/one-pat.ndjson" --quiet "$TMP/draft.ndjson"
	{ [ "$status" = 2 ] && grep -q "one-pat.ndjson:1: pattern .a$l" "$ERR"; } || { ok_m=0; echo "# pd-match a$l: $status $(cat "$ERR")"; }
done
expect "pd-match refuses each of them at load, with FILE:LINE" '[ "$ok_m" = 1 ]'
if [ -n "${DATABASE_URL:-}" ]; then
	. "$(dirname "$0")/lib/store.sh"
	if store_db t1700_patterns; then
		run pd-store --no-passthrough --rejects "$TMP/rej.s" "$TMP/absurd.ndjson"
		expect "pd-store refuses every one of them, and the run holds none" '
			check_status 1 && [ "$(wc -l <"$TMP/rej.s")" = "$n" ] &&
			test "$(q "select count(*) from patterns")" = 0'
		store_db_drop
	else
		skip "pd-store refuses them" "no test database"
	fi
else
	skip "pd-store refuses them" "no DATABASE_URL"
fi
test_done
