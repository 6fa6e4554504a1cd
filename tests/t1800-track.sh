#!/usr/bin/env bash
# t1800-track.sh — pd-track against the real PostgreSQL: a simulated month of
# daily discovery runs where one pattern's effect fades, another holds and a
# negative one holds; predictions recorded day by day, the videos' perf
# arriving afterwards, the fading pattern flagged and the others not; the
# numbers checked against an independent computation; idempotent
# re-recording; bad records rejected with FILE:LINE; no database: exit 3.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! store_db t1800_track; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
trap 'store_db_drop; _tap_cleanup' EXIT
Q="'"

# The month: day D's discovery run (day-D.run: the three patterns, a metric
# record naming the day so each run is new), its predictions (day-D.match:
# 24 videos with the feature and 24 without per pattern, as pd-match writes
# them, predicted_at that morning), and in videos.ndjson every video with
# the perf it reached.  pat-steady: x2.0 all month; pat-fading: x2.0 for ten
# days, then down to x0.8 by day 20; pat-neg: a negative pattern, x0.5.
/usr/bin/python3 - "$TMP" <<'PYEOF'
import json, math, random, sys
out = sys.argv[1]
rnd = random.Random(1800)
def w(f, o):
    f.write(json.dumps(o, separators=(",", ":")) + "\n")
pats = {
    "pat-steady": dict(effect=2.0, exp=2.0, ci=[1.6, 2.5], name="How-to titles"),
    "pat-fading": dict(effect=2.0, exp=2.0, ci=[1.6, 2.5], name="Numbered lists"),
    "pat-neg": dict(effect=0.5, exp=0.55, ci=[0.45, 0.7], name="All-caps titles"),
}
def true_effect(p, d):
    if p != "pat-fading":
        return pats[p]["effect"]
    if d < 10:
        return 2.0
    if d < 20:
        return 2.0 - 1.2 * (d - 9) / 10
    return 0.8
videos = open(out + "/videos.ndjson", "w")
for d in range(30):
    day = "2026-11-%02d" % (d + 1)
    with open(out + "/day-%d.run" % d, "w") as f:
        w(f, {"type": "metric", "stage": "mine", "seconds": 1.0, "day": day})
        for p, s in pats.items():
            neg = s["effect"] < 1
            rec = {"type": "pattern", "id": p, "pattern_type": "title",
                   "feature": {"kind": "ngram", "value": p}, "cluster": "c-" + p,
                   "level": "meso", "radius": 0.3, "centroid_b64": "AACAPwAAAAA=",
                   "name": s["name"], "status": "validated",
                   "stats": {"n": 400, "n_with": 120, "effect": s["effect"],
                             "effect_ci": [s["effect"] * 0.8, s["effect"] * 1.25],
                             "median_perf_with": s["exp"],
                             "median_perf_without": round(s["exp"] / s["effect"], 4),
                             "mean_with": round(s["exp"] * 1.1, 4), "p": 1e-6, "q": 1e-5}}
            if neg:
                rec["direction"] = "negative"
            w(f, rec)
    with open(out + "/day-%d.match" % d, "w") as f:
        for p, s in pats.items():
            for i in range(48):
                has = i % 2 == 0
                vid = "v%02d-%s-%02d" % (d, p[4:], i)
                w(f, {"type": "match", "video_id": vid, "pattern_id": p,
                      "similarity": round(0.7 + rnd.random() * 0.3, 6), "has_feature": has,
                      "expected_perf": s["exp"], "expected_perf_ci": s["ci"],
                      "explanation": "simulated", "predicted_at": day + "T06:00:00Z"})
                base = math.exp(rnd.gauss(0, 0.5))
                perf = base * (true_effect(p, d) if has else 1.0)
                w(videos, {"type": "video", "id": vid, "channel_id": "ch%d" % (i % 6),
                           "title": "video %s" % vid, "published_at": day + "T07:00:00Z",
                           "perf": round(perf, 5)})
videos.close()
PYEOF

# ---- a month of daily runs, predictions recorded as they are made ----------
fails=0
for d in $(seq 0 29); do
	pd-store --no-passthrough --quiet "$TMP/day-$d.run" >"$TMP/store-$d" 2>>"$TMP/month.err" || fails=$((fails + 1))
	pd-track record --no-passthrough "$TMP/day-$d.match" >"$TMP/rec-$d" 2>>"$TMP/month.err" || fails=$((fails + 1))
done
expect 'a month of daily runs: 30 discovery runs, predictions recorded each day' '
	test "$fails" = 0 && [ ! -s "$TMP/month.err" ] &&
	test "$(q "select count(*) from discovery_runs where status <> ${Q}loaded${Q}")" = 30 &&
	test "$(q "select count(*) from predictions")" = 4320 &&
	test "$(q "select count(distinct run_id) from predictions")" = 30 &&
	jq -e "select(.stage == \"track\") | .predictions == 144 and .stored == 144 and .already_stored == 0" "$TMP/rec-7" >/dev/null'
expect 'each prediction belongs to its day'"'"'s run, with the pattern'"'"'s effect and direction' '
	test "$(q "select count(*) from predictions where (predicted_at at time zone ${Q}UTC${Q})::date
		<> date ${Q}2026-11-01${Q} + (run_id - (select min(run_id) from discovery_runs))::int")" = 0 &&
	test "$(q "select string_agg(x, ${Q} ${Q} order by x) from (select distinct
		pattern_id || ${Q}:${Q} || effect || ${Q}:${Q} || direction as x from predictions) d")" = \
		"pat-fading:2:1 pat-neg:0.5:-1 pat-steady:2:1" &&
	test "$(q "select expected_perf, expected_lo, expected_hi, cluster_id, has_feature from predictions
		where video_id = ${Q}v03-steady-04${Q}")" = "2|1.6|2.5|c-pat-steady|t"'

run pd-track report --latest --no-metric
expect 'before the perf is known every prediction is pending' '
	check_status 0 && test "$(wc -l <"$OUT")" = 3 &&
	{ jq -c "select(.n != 0 or .pending != 48 or .flagged)" "$OUT" >"$TMP/bad"; [ ! -s "$TMP/bad" ]; }'

# ---- idempotent re-recording ---------------------------------------------
dump() { q "select * from predictions order by run_id, pattern_id, video_id"; }
dump >"$TMP/dump1"
IN=$TMP/day-29.match run pd-track record
expect 'recording the same day again stores nothing and passes every record through' '
	check_status 0 && dump | cmp - "$TMP/dump1" &&
	tail -n 1 "$OUT" | jq -e ".stored == 0 and .already_stored == 144 and .predictions == 144" &&
	head -n -1 "$OUT" | cmp - "$TMP/day-29.match"'
run5=$(q "select min(run_id) + 5 from discovery_runs")
run pd-track record --run "$run5" --no-passthrough "$TMP/day-5.match"
expect 'an older day again, named with --run: nothing new either' '
	check_status 0 && dump | cmp - "$TMP/dump1" &&
	jq -e ".stored == 0 and .already_stored == 144" "$OUT"'

# ---- the perf arrives ------------------------------------------------------
run pd-store --no-passthrough "$TMP/videos.ndjson"
expect 'the videos'"'"' perf is stored (pd-store refreshes pattern_effectiveness)' '
	check_status 0 &&
	test "$(q "select sum(n), sum(pending) from pattern_effectiveness")" = "4320|0"'

run pd-track report --no-metric
cp "$OUT" "$TMP/report"
flagged_runs() {	# PATTERN FIRST LAST: how many of those days' runs are flagged
	jq -r --arg p "$1" --argjson a "$2" --argjson b "$3" --argjson r0 "$run5" \
		'select(.pattern_id == $p and .run_id - $r0 + 5 >= $a and .run_id - $r0 + 5 <= $b and .flagged) | .run_id' \
		"$TMP/report" | wc -l
}
expect 'report: one effectiveness record per pattern and run, by pattern then run' '
	check_status 0 && test "$(wc -l <"$TMP/report")" = 90 &&
	jq -r "[.pattern_id, .run_id] | @tsv" "$TMP/report" | sort -k1,1 -k2,2n | cmp - <(jq -r "[.pattern_id, .run_id] | @tsv" "$TMP/report") &&
	{ jq -c "select(.type != \"effectiveness\" or .n != 48 or .n_with != 24 or .n_without != 24 or .pending != 0)" "$TMP/report" >"$TMP/bad"; [ ! -s "$TMP/bad" ]; }'
expect 'the steady pattern is never flagged, and holds in every run' '
	test "$(flagged_runs pat-steady 0 29)" = 0 &&
	test "$(jq -r "select(.pattern_id == \"pat-steady\" and (.p_beats < 0.6 or .rank_p > 0.05)) | .run_id" "$TMP/report" | wc -l)" = 0'
expect 'the negative pattern (with the feature does worse, as predicted) is never flagged' '
	test "$(flagged_runs pat-neg 0 29)" = 0 &&
	test "$(jq -r "select(.pattern_id == \"pat-neg\") | .direction" "$TMP/report" | sort -u)" = negative &&
	test "$(jq -r "select(.pattern_id == \"pat-neg\" and (.p_beats < 0.6 or .rank_p > 0.05)) | .run_id" "$TMP/report" | wc -l)" = 0'
expect 'the fading pattern: not flagged while it pays off, flagged once it stops' '
	echo "early $(flagged_runs pat-fading 0 9) late $(flagged_runs pat-fading 20 29)" &&
	test "$(flagged_runs pat-fading 0 9)" = 0 &&
	test "$(flagged_runs pat-fading 20 29)" -ge 9 &&
	test "$(jq -r "select(.pattern_id == \"pat-fading\" and .flagged) | .flag_reason" "$TMP/report" |
		sort -u | tr "\n" " ")" != ""'

run pd-track report --latest --flagged --no-metric
expect 'report --latest --flagged: the fading pattern alone' '
	check_status 0 && test "$(jq -r .pattern_id "$OUT")" = pat-fading &&
	test "$(jq .run_id "$OUT")" = "$(q "select max(run_id) from discovery_runs where status <> ${Q}loaded${Q}")"'

run pd-report --db --no-redis -o "$TMP/report.html"
expect 'pd-report shows the month: the fading pattern flagged, the steady one not' '
	check_status 0 && grep -q "id=track" "$TMP/report.html" &&
	grep -o "<tr><td class=name>[^<]*\( <span class=bad>flagged: [a-z_]*\)\?" "$TMP/report.html" >"$TMP/rows.html" &&
	grep -q "Numbered lists <span class=bad>flagged: " "$TMP/rows.html" &&
	! grep "flagged" "$TMP/rows.html" | grep -v "Numbered lists" | grep -q .'

# the numbers of one run, computed again in Python from the stored rows
q "select p.has_feature, v.perf, p.expected_perf, p.expected_lo, p.expected_hi from predictions p
	join videos v on v.id = p.video_id where p.run_id = $run5 + 20 and p.pattern_id = ${Q}pat-fading${Q}" >"$TMP/rows"
jq -c "select(.pattern_id == \"pat-fading\" and .run_id == $run5 + 20)" "$TMP/report" >"$TMP/row"
expect 'in_interval, median_ratio, p_beats and rank_p agree with an independent computation' '
	/usr/bin/python3 - "$TMP/rows" "$TMP/row" <<"PY"
import json, math, statistics, sys
rows = [l.split("|") for l in open(sys.argv[1]).read().split()]
w = [(float(a), float(e), float(lo), float(hi)) for h, a, e, lo, hi in rows if h == "t"]
wo = [float(a) for h, a, e, lo, hi in rows if h == "f"]
got = json.loads(open(sys.argv[2]).read())
inint = sum(lo <= a <= hi for a, e, lo, hi in w) / len(w)
mratio = statistics.median(a / e for a, e, lo, hi in w)
u = sum((x > y) + 0.5 * (x == y) for x, _, _, _ in w for y in wo)
n1, n2 = len(w), len(wo)
allv = [x for x, _, _, _ in w] + wo
ties = {}
for v in allv:
    ties[v] = ties.get(v, 0) + 1
n = n1 + n2
var = n1 * n2 / 12 * ((n + 1) - sum(t ** 3 - t for t in ties.values()) / (n * (n - 1)))
z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(var)
p = 0.5 * math.erfc(z / math.sqrt(2))
want = {"in_interval": inint, "median_ratio": mratio, "p_beats": u / (n1 * n2), "rank_p": p,
        "median_with": statistics.median(x for x, _, _, _ in w), "median_without": statistics.median(wo)}
for k, v in want.items():
    if abs(got[k] - v) > 1e-5 * max(1, abs(v)) + 1e-6:
        sys.exit("%s: got %r, want %r" % (k, got[k], v))
PY'

expect 'the materialized view and run_effectiveness say the same (default flag rule)' '
	test "$(q "select count(*) from pattern_effectiveness where flagged")" = "$(jq -r "select(.flagged) | .run_id" "$TMP/report" | wc -l)" &&
	test "$(q "select count(*) from pg_indexes where indexname = ${Q}pattern_effectiveness_id${Q}")" = 1 &&
	test "$(q "select sum(flagged), sum(n), count(*) from run_effectiveness")" = "$(jq -s "[(map(select(.flagged)) | length), (map(.n) | add), (map(.run_id) | unique | length)] | join(\"|\")" -r "$TMP/report")"'
expect 'refresh_pattern_views() refreshes every materialized view, concurrently where it can' '
	q "select refresh_pattern_views()" >/dev/null &&
	test "$(q "select count(*) from pg_matviews where schemaname = current_schema()")" = 3 &&
	q "select prosrc from pg_proc where proname = ${Q}refresh_pattern_views${Q}" | grep -q CONCURRENTLY'
expect 'pattern_effectiveness_by_cluster has avg_performance for the stored patterns' '
	test "$(q "select count(*), count(avg_performance) from pattern_effectiveness_by_cluster")" = "3|3" &&
	test "$(q "select avg_performance from pattern_effectiveness_by_cluster where pattern_id = ${Q}pat-steady${Q}")" = 2.2'

run pd-track report --min-n 100 --no-metric
expect '--min-n and --min-ratio change the flag rule (not the view)' '
	check_status 0 && ! jq -e "select(.flag_reason == \"no_advantage\")" "$OUT" >/dev/null &&
	pd-track report --min-ratio 0 --min-n 100 --no-metric --no-refresh >"$TMP/r0" && ! jq -e "select(.flagged)" "$TMP/r0" >/dev/null &&
	test "$(q "select count(*) from pattern_effectiveness where flagged")" -ge 9'

# ---- bad records --------------------------------------------------------------
runlast=$(q "select run_id from discovery_runs where status = ${Q}active${Q}")
cat >"$TMP/bad.ndjson" <<EOF
{"type":"match","video_id":"new-1","pattern_id":"pat-steady","has_feature":true,"expected_perf":2,"expected_perf_ci":[1.6,2.5]}
{"type":"match","pattern_id":"pat-steady","has_feature":true,"expected_perf":2}
{"type":"match","video_id":"new-2","pattern_id":"pat-steady","has_feature":"yes","expected_perf":2}
{"type":"match","video_id":"new-3","pattern_id":"pat-steady","has_feature":true,"expected_perf":2,"expected_perf_ci":[3,1]}
{"type":"match","video_id":"new-4","pattern_id":"pat-nowhere","has_feature":true,"expected_perf":2}
{"type":"match","video_id":"new-5","pattern_id":"pat-steady","has_feature":true,"expected_perf":2,"run_id":999999}
{"type":"match","video_id":"new-6"
{"type":"match_group","video_id":"new-7","matches":[{"pattern_id":"pat-steady","similarity":0.9,"has_feature":false,"expected_perf":2},{"pattern_id":"pat-nowhere","similarity":0.9,"has_feature":true,"expected_perf":2}]}
{"type":"match_group","video_id":"new-8","matches":[{"pattern_id":"pat-steady","similarity":0.9,"has_feature":false,"expected_perf":2,"expected_perf_ci":null},{"pattern_id":"pat-neg","similarity":0.8,"has_feature":true,"expected_perf":0.55}]}
{"type":"match","video_id":"new-9","pattern_id":"pat-steady","has_feature":true,"expected_perf":-1}
{"type":"match","video_id":"new-10","pattern_id":"pat-steady","has_feature":true,"expected_perf":2,"predicted_at":"yesterday"}
{"type":"note","text":"passes through"}
{"type":"match","video_id":"new-12","pattern_id":"pat-fading","has_feature":true,"expected_perf":2,"run_id":$run5}
EOF
run pd-track record --rejects "$TMP/rejects" "$TMP/bad.ndjson"
expect 'bad records: exit 1, each reported as FILE:LINE, the good ones stored (one in another run)' '
	check_status 1 &&
	for l in 2 3 4 5 6 7 8 10 11; do grep -q "^pd-track: $TMP/bad.ndjson:$l: " "$ERR" || { echo "no line $l"; cat "$ERR"; exit 1; }; done &&
	grep -q ":5: pattern .pat-nowhere. is not a pattern of run $runlast" "$ERR" &&
	grep -q ":6: run 999999 is not a stored discovery run" "$ERR" &&
	grep -q ":3: .*has_feature" "$ERR" && grep -q ":4: .*lo > hi" "$ERR" &&
	test "$(grep -c . "$TMP/rejects")" = 9 &&
	test "$(q "select string_agg(video_id || ${Q}/${Q} || pattern_id, ${Q} ${Q} order by video_id, pattern_id)
		from predictions where video_id like ${Q}new-%${Q}")" = "new-1/pat-steady new-12/pat-fading new-8/pat-neg new-8/pat-steady" &&
	test "$(q "select run_id from predictions where video_id = ${Q}new-12${Q}")" = "$run5" &&
	tail -n 1 "$OUT" | jq -e ".rejected == 9 and .predictions == 4 and .stored == 4" &&
	grep -q "passes through" "$OUT"'
run pd-track record --strict "$TMP/bad.ndjson"
expect '--strict stops at the first bad record and stores nothing' '
	check_status 1 && grep -q ":2: " "$ERR" && ! grep -q ":3: " "$ERR" &&
	test "$(q "select count(*) from predictions where video_id like ${Q}new-%${Q}")" = 4'

run pd-track record --latest "$TMP/bad.ndjson"
expect 'an option of the other mode is a usage error' '
	check_status 2 && grep -q "option of report" "$ERR"'
run pd-track record --run 999999 "$TMP/day-1.match"
expect '--run naming a run that is not stored: exit 2' '
	check_status 2 && grep -q "run 999999 is not a stored discovery run" "$ERR"'

# ---- no database -------------------------------------------------------------
nodb="postgresql://postgres@/none?host=$TMP/no-such-dir"
DATABASE_URL=$nodb run pd-track report
expect 'report without a reachable database: a clear error, exit 3' '
	check_status 3 && grep -q "^pd-track: cannot connect to PostgreSQL" "$ERR" && [ ! -s "$OUT" ]'
DATABASE_URL=$nodb IN=$TMP/day-1.match run pd-track record
expect 'record without a reachable database: exit 3' '
	check_status 3 && grep -q "^pd-track: cannot connect to PostgreSQL" "$ERR"'
echo '{"type":"note"}' >"$TMP/smoke"
DATABASE_URL=$nodb run pd-track record "$TMP/smoke"
expect 'a stream with no match records needs no database' '
	check_status 0 && grep -q "\"type\":\"note\"" "$OUT"'

test_done
