#!/bin/bash
# pd-mine: records pass through, pattern records carry the contract's fields,
# ids are stable, output is deterministic across threads, holdout, shards,
# negative patterns, options.
. "$(dirname "$0")/lib/tap.sh"

SYNTH=$PD_TOP/examples/mine-synth.py
# pats FILE COND: there are pattern records and COND holds for each
pats() { jq -s -e "[.[] | select(.type==\"pattern\") | ($2)] | length > 0 and all" "$1" >/dev/null; }
# summ FILE COND: COND holds for the mine_summary record
summ() { jq -s -e "[.[] | select(.type==\"mine_summary\")] | length == 1 and (.[0] | $2)" "$1" >/dev/null; }
python3 "$SYNTH" --videos 3000 --seed 11 --truth "$TMP/truth" --negative >"$TMP/in" || exit 1

# --holdout 0: every video mined, records passed through unchanged
run pd-mine --holdout 0 "$TMP/in"
cp "$OUT" "$TMP/out1"
expect 'mines the synthetic input, exit 0' 'check_status 0'

expect 'every input record passes through unchanged and in order, then patterns and summary' '
	n=$(wc -l <"$TMP/in")
	head -n "$n" "$TMP/out1" | cmp - "$TMP/in" &&
	tail -n +$((n + 1)) "$TMP/out1" | jq -r .type | uniq -c | awk "{print \$2}" | tr "\n" " " |
		grep -qx "pattern mine_summary metric "
'

expect 'pattern records carry the contract fields' '
	pats "$TMP/out1" "
		(.id|test(\"^p[0-9a-f]{16}$\")) and (.pattern_type|type==\"string\") and
		(.feature|type==\"object\") and (.direction==\"positive\") and (.cluster|type==\"string\") and
		(.level|IN(\"macro\",\"meso\",\"micro\")) and .centroid_b64==\"AACAPwAAAAA=\" and .radius==0.3 and
		(.name|length>0) and (.description|length>0) and
		(.label == null or (.label|type==\"string\")) and (.kind|IN(\"evergreen\",\"trend\")) and
		(.window|(.from|type==\"string\") and (.to|type==\"string\") and .from <= .to and
			.blocks == 4 and (.superiority|length==4) and .held <= .testable) and
		(.stats|(.n>=30) and (.n_with>=10) and (.high_with>=0) and (.high_without>=0) and
			(.base_rate>0) and (.effect>1) and (.effect_ci|length==2 and .[0]<=.[1]) and
			(.effect_ci[0] <= .effect and .effect <= .effect_ci[1]) and
			(.lift>=0) and (.lift_ci|length==2 and .[0]<=.[1]) and
			(.median_perf_with > .median_perf_without) and
			(.p>=0 and .p<=1) and (.p_rank>=0 and .p_rank<=0.05) and (.channels>=3) and
			(.high_channels>=0) and (.top_channel|type==\"string\") and
			(.top_channel_share>0 and .top_channel_share<=1) and .threshold==2 and (.quality>0)) and
		(.examples|length>=1 and length<=5) and
		(.performance_stats|(.within_radius|has(\"avg\") and has(\"median\") and .count>=10) and
			(.outside_radius.count>=1) and (.lift_ratio>1)) and (.performance_stats.lift_ratio == .stats.effect) and
		(.pattern_data|(.name|length>0) and (.template|length>0) and (.examples|length>=1) and
			(.confidence>=0.95) and (.sample_size>=10)) and
		.status==\"candidate\"" &&
	[ "$(grep -c "\"type\":\"pattern\"" "$TMP/out1")" -gt 20 ]
'

expect 'the 2x2 table adds up: n, n_with, high counts, base rate and lift agree' '
	pats "$TMP/out1" ".stats |
		((.high_with + .high_without) / .n - .base_rate | fabs < 1e-5) and
		((((.high_with / .n_with) / .base_rate) - .lift | fabs) < 1e-4 * .lift)"
'

expect 'mine_summary counts every test and the clusters mined' '
	p=$(grep -c "\"type\":\"pattern\"" "$TMP/out1") &&
	summ "$TMP/out1" ".tests > 1000 and .tests_topic > 0 and .tests_topic < .tests and
		.clusters >= 80 and .clusters <= 84 and .shard == \"1/1\" and
		.patterns == $p and .videos == 3000 and .holdout == 0"
'

expect 'at most --top patterns per cluster and direction; only clusters of 30+ videos with perf' '
	jq -r "select(.type==\"pattern\") | .cluster" "$TMP/out1" | sort | uniq -c | awk "\$1 > 10 {exit 1}" &&
	run pd-mine --holdout 0 --top 2 "$TMP/in" && check_status 0 &&
	jq -r "select(.type==\"pattern\") | .cluster" "$OUT" | sort | uniq -c | awk "\$1 > 2 {exit 1}" &&
	run pd-mine --holdout 0 --min-cluster-size 500 "$TMP/in" && check_status 0 &&
	pats "$OUT" ".stats.n >= 500 and .level == \"macro\"" &&
	summ "$OUT" ".clusters == 4"
'

# pattern ids: "p" + 16 hex of pd_hash64(cluster + "\n" + canonical feature)
cat >"$TMP/ids.py" <<'EOF'
import json, sys
M = (1 << 64) - 1
def h(b):
    x = 0xcbf29ce484222325
    for c in b:
        x = ((x ^ c) * 0x100000001b3) & M
    z = (x + 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] != "pattern":
        continue
    canon = json.dumps(r["feature"], separators=(",", ":"), ensure_ascii=False)
    if r["id"] != "p%016x" % h((r["cluster"] + "\n" + canon).encode()):
        bad += 1
        print("bad id", r["id"], r["cluster"], canon)
sys.exit(1 if bad else 0)
EOF
expect 'pattern ids are the hash of cluster and canonical feature' 'python3 "$TMP/ids.py" "$TMP/out1"'

# an independent count: for patterns of simple kinds, the 2x2 table and the
# Fisher p recomputed in Python from the input must match the record
cat >"$TMP/recount.py" <<'EOF'
import datetime, json, math, re, sys
vids, pats = [], []
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "video" and r.get("perf") is not None:
        vids.append(r)
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r["type"] == "pattern":
        pats.append(r)
def words(t):
    return re.sub(r"[^a-z0-9 ]", " ", t.lower().replace("'", "")).split()
def has(f, v):
    if "all" in f:
        return all(has(g, v) for g in f["all"])
    k = f["kind"]
    if k == "ngram":
        w, p = words(v["title"]), f["value"].split()
        return any(w[i:i + len(p)] == p for i in range(len(w)))
    if k == "duration":
        return f["min_s"] <= v["duration_s"] < f.get("max_s", 1e18)
    if k == "short":
        return v["duration_s"] <= 60
    if k == "weekday":
        return datetime.datetime.strptime(v["published_at"], "%Y-%m-%dT%H:%M:%SZ").weekday() == f["value"]
    if k == "hour":
        return f["min"] <= int(v["published_at"][11:13]) < f["max"]
    if k == "tag":
        return f["value"] in [t.lower() for t in v["tags"]]
    if k == "format" and "format" in v:
        return v["format"] == f["value"]
    if k == "title" and f["value"] == "question":
        return "?" in v["title"]
    if k == "tag_count":
        return f["min"] <= len(v["tags"]) < f.get("max", 1e18)
    return None
def lchoose(n, k):
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
def fisher_greater(a, n1, K, N):
    return sum(math.exp(lchoose(K, x) + lchoose(N - K, n1 - x) - lchoose(N, n1))
               for x in range(a, min(n1, K) + 1))
checked = 0
for p in pats:
    members = [v for v in vids if p["cluster"] in v["cluster"].values()]
    flags = [has(p["feature"], v) for v in members]
    if None in flags:
        continue
    s = p["stats"]
    n = len(members)
    w = [v for v, f in zip(members, flags) if f]
    a = sum(v["perf"] >= 2 for v in w)
    H = sum(v["perf"] >= 2 for v in members)
    assert (n, len(w), a, H - a) == (s["n"], s["n_with"], s["high_with"], s["high_without"]), (p["feature"], p["cluster"], n, len(w), a, s)
    if "all" not in p["feature"] and p["direction"] == "positive":
        pf = fisher_greater(a, len(w), H, n)
        assert abs(pf - s["p"]) <= 1e-4 * pf + 1e-12, (pf, s["p"])
    checked += 1
print("checked", checked, "of", len(pats))
assert checked >= 20
EOF
expect 'an independent recount gives the same 2x2 tables and Fisher p-values' '
	python3 "$TMP/recount.py" "$TMP/in" "$TMP/out1"
'

expect 'same input gives byte-identical output, with 1 or 2 threads' '
	run pd-mine --holdout 0 --no-metric --threads 1 "$TMP/in" && cp "$OUT" "$TMP/t1" &&
	run pd-mine --holdout 0 --no-metric --threads 2 "$TMP/in" && cmp "$OUT" "$TMP/t1" &&
	no_metric "$TMP/out1" | cmp - "$TMP/t1"
'

expect 'n-gram patterns: every example title contains the n-gram' '
	jq -r "select(.type==\"pattern\" and .feature.kind==\"ngram\") | .feature.value as \$v |
		.pattern_data.examples[] | [\$v, .] | @tsv" "$TMP/out1" >"$TMP/ng" &&
	[ -s "$TMP/ng" ] &&
	python3 -c "
import re, sys
for l in open(sys.argv[1]):
    v, t = l.rstrip(\"\n\").split(\"\t\")
    w = \" \" + \" \".join(re.sub(r\"[^a-z0-9 ]\", \" \", t.lower()).split()) + \" \"
    assert \" \" + v + \" \" in w, (v, t)
" "$TMP/ng"
'

expect '--negative reports under-performing features with lift < 1' '
	run pd-mine --holdout 0 --negative "$TMP/in" && check_status 0 &&
	pats "$OUT" "select(.direction==\"negative\") | .stats.effect < 1 and .stats.effect_ci[1] >= .stats.effect and
		.stats.median_perf_with < .stats.median_perf_without and .stats.p_rank <= 0.05 and .stats.quality > 0" &&
	jq -c "select(.type==\"truth_effect\" and .multiplier < 1) | [.topic, .feature]" "$TMP/truth" >"$TMP/negtruth" &&
	jq -c "select(.type==\"pattern\" and .direction==\"negative\") | [.cluster, .feature]" "$OUT" >"$TMP/negfound" &&
	found=$(grep -cxFf "$TMP/negtruth" "$TMP/negfound") &&
	echo "planted negative found: $found of $(wc -l <"$TMP/negtruth")" &&
	[ "$found" -eq 3 ] &&
	! grep -q "\"direction\":\"negative\"" "$TMP/out1"
'

expect '--holdout 0.2 marks the newest fifth and mines without them' '
	run pd-mine --no-metric --holdout 0.2 "$TMP/in" && check_status 0 &&
	h=$(grep -c "\"holdout\":true" "$OUT") && [ "$h" -ge 590 ] && [ "$h" -le 610 ] &&
	oldest_held=$(jq -r "select(.type==\"video\" and .holdout==true) | .published_at" "$OUT" | sort | head -n 1) &&
	newest_kept=$(jq -r "select(.type==\"video\" and .holdout!=true) | .published_at" "$OUT" | sort | tail -n 1) &&
	[[ "$newest_kept" < "$oldest_held" ]] &&
	summ "$OUT" ".holdout == $h" &&
	jq -c "select(.type==\"video\") | del(.holdout)" "$OUT" >"$TMP/a" &&
	jq -c "select(.type==\"video\") | del(.holdout)" "$TMP/in" >"$TMP/b" && cmp "$TMP/a" "$TMP/b" &&
	jq "select(.type==\"pattern\" and .cluster==\"T0\") | .stats.n" "$OUT" | sort -u >"$TMP/n" &&
	jq "select(.type==\"pattern\" and .cluster==\"T0\") | .stats.n" "$TMP/out1" | sort -u >"$TMP/n1" &&
	[ "$(cat "$TMP/n")" -lt "$(cat "$TMP/n1")" ]
'

expect '--holdout DATE marks videos published at or after it, streaming' '
	run pd-mine --no-metric --holdout 2024-05-01T00:00:00Z "$TMP/in" && check_status 0 &&
	want=$(jq -r "select(.type==\"video\" and .published_at >= \"2024-05-01T00:00:00Z\") | .id" "$TMP/in" | wc -l) &&
	got=$(jq -r "select(.type==\"video\" and .holdout==true) | .id" "$OUT" | wc -l) &&
	[ "$want" -gt 0 ] && [ "$want" = "$got" ]
'

expect 'a record already held out stays marked once and is not mined' '
	head -n 1 "$TMP/in" | jq -c ". + {holdout:true}" >"$TMP/h1" &&
	tail -n +2 "$TMP/in" >>"$TMP/h1" &&
	run pd-mine --no-metric --holdout 0.1 "$TMP/h1" && check_status 0 &&
	head -n 1 "$OUT" | cmp - <(head -n 1 "$TMP/h1")
'

expect '--shard i/n: the shards together give the whole run' '
	for i in 1 2 3; do
		run pd-mine --holdout 0 --no-metric --shard $i/3 "$TMP/in" && check_status 0 || exit 1
		grep "\"type\":\"pattern\"" "$OUT" >>"$TMP/shards"
		jq -r "select(.type==\"mine_summary\") | .tests" "$OUT" >>"$TMP/tests"
		summ "$OUT" ".shard == \"$i/3\"" || exit 1
	done
	grep "\"type\":\"pattern\"" "$TMP/out1" | sort >"$TMP/all" &&
	sort "$TMP/shards" | cmp - "$TMP/all" &&
	[ "$(paste -sd+ "$TMP/tests" | bc)" = "$(jq -r "select(.type==\"mine_summary\") | .tests" "$TMP/out1")" ]
'

expect 'pairs: conjunctions beat each of their parts; --no-pairs has none' '
	run pd-mine --holdout 0 --no-metric --no-pairs "$TMP/in" && check_status 0 &&
	! grep -q "\"all\":" "$OUT" &&
	tests_np=$(jq -r "select(.type==\"mine_summary\") | .tests" "$OUT") &&
	tests_p=$(jq -r "select(.type==\"mine_summary\") | .tests" "$TMP/out1") &&
	[ "$tests_p" -gt "$tests_np" ]
'

expect '--max-ngram 1 yields single-word n-grams only' '
	run pd-mine --holdout 0 --no-metric --max-ngram 1 "$TMP/in" && check_status 0 &&
	! jq -r "select(.type==\"pattern\" and .feature.kind==\"ngram\") | .feature.value" "$OUT" | grep -q " "
'

expect 'videos without perf or cluster pass through and do not count' '
	printf "%s\n" "{\"type\":\"video\",\"id\":\"x1\",\"title\":\"t\",\"perf\":null,\"cluster\":{\"macro\":\"T0\"}}" \
		"{\"type\":\"video\",\"id\":\"x2\",\"title\":\"t\",\"perf\":5}" "{\"type\":\"other\",\"a\":[1]}" >"$TMP/few" &&
	run pd-mine --holdout 0 --no-metric "$TMP/few" && check_status 0 &&
	head -n 3 "$OUT" | cmp - "$TMP/few" &&
	summ "$OUT" ".tests==0 and .clusters==0 and .videos==2"
'

expect 'usage errors exit 2 with a message' '
	for a in "--shard 0/2" "--shard 3/2" "--shard x" "--holdout 1.5" "--holdout yesterday" \
		 "--tz 5" "--max-ngram 4" "--performance-threshold 0" "--alpha 2" "--max-channel-share 1.5" \
		 "--max-channel-share -0.1" "--bogus"; do
		run pd-mine $a "$TMP/few"
		check_status 2 || exit 1
		grep -q "^pd-mine: " "$ERR" || exit 1
	done
'

expect '--tz shifts weekday and hour features' '
	python3 -c "
import json
for i in range(80):
    hi = i % 2 == 0
    print(json.dumps({\"type\": \"video\", \"id\": \"z%d\" % i, \"channel_id\": \"c%d\" % (i % 7),
        \"title\": \"t\", \"published_at\": \"2024-03-%02dT23:30:00Z\" % (8 if hi else 6),
        \"perf\": 3 if hi else 0.5, \"cluster\": {\"macro\": \"M\"}}))
" >"$TMP/tz" &&
	run pd-mine --holdout 0 --no-metric "$TMP/tz" && check_status 0 &&
	pats "$OUT" "select(.feature.kind==\"weekday\") | .feature.value == 4" &&
	run pd-mine --holdout 0 --no-metric --tz +02:00 "$TMP/tz" && check_status 0 &&
	pats "$OUT" "select(.feature.kind==\"weekday\") | .feature.value == 5"
'

expect 'a feature one channel holds more than half of is neither tested nor counted, --max-channel-share 1 tests it' '
	python3 -c "
import json
for i in range(160):
    # 20 videos say \"series\": 12 of channel c0 (60%), 8 of c1..c8; all do well
    s = i < 20
    ch = 0 if i < 12 else (i - 11) if s else 1 + i % 9
    print(json.dumps({\"type\": \"video\", \"id\": \"s%d\" % i, \"channel_id\": \"c%d\" % ch,
        \"title\": (\"series \" if s else \"\") + \"episode %d\" % (i % 5),
        \"published_at\": \"2024-03-%02dT12:00:00Z\" % (1 + i % 28),
        \"perf\": 3 if s else 0.6 + (i % 7) / 10, \"cluster\": {\"macro\": \"M\"}}))
" >"$TMP/share" &&
	sel="select(.type==\"pattern\" and .feature.kind==\"ngram\" and (.feature.value|startswith(\"series\")))" &&
	run pd-mine --holdout 0 --no-metric "$TMP/share" && check_status 0 &&
	test "$(jq -c "$sel" "$OUT" | wc -l)" = 0 &&
	summ "$OUT" ".max_channel_share == 0.5" &&
	t_def=$(jq "select(.type==\"mine_summary\") | .tests" "$OUT") &&
	run pd-mine --holdout 0 --no-metric --max-channel-share 0.6 "$TMP/share" && check_status 0 &&
	test "$(jq -c "$sel | .stats.top_channel_share" "$OUT")" = 0.6 &&
	t_60=$(jq "select(.type==\"mine_summary\") | .tests" "$OUT") &&
	run pd-mine --holdout 0 --no-metric --max-channel-share 1 "$TMP/share" && check_status 0 &&
	test "$(jq -c "$sel" "$OUT" | wc -l)" = 1 &&
	t_all=$(jq "select(.type==\"mine_summary\") | .tests" "$OUT") &&
	test "$t_def" -lt "$t_60" && test "$t_60" -le "$t_all"
'

test_done
