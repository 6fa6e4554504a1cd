#!/usr/bin/env bash
# t1230-match-hier.sh — a pattern applies where the hierarchy places a video,
# on a whole run: pd-synth -> pd-fetch -> pd-embed -> pd-cluster -> pd-mine ->
# pd-validate, then pd-match on the same videos.  For every pattern (the
# validated ones, and pd-mine's candidates at every level), exactly the videos
# whose cluster path holds the pattern's cluster get a match record for it.
# Drafts (titles embedded with the saved model) are placed as pd-cluster
# --assign places the same text, and get patterns and recommendations only
# from their own macro -> meso -> micro path, recommendations ranked by gain.
. "$(dirname "$0")/lib/tap.sh"
for c in pd-synth pd-fetch pd-embed pd-cluster pd-mine pd-validate; do
	command -v $c >/dev/null || { skip "match by hierarchy on a whole run" "no $c"; test_done; }
done
unset DATABASE_URL REDIS_URL
export OPENBLAS_NUM_THREADS=1

# the run (set-up, not under test: each stage's status checked)
pd-synth --videos 6000 --seed 3 --format ndjson --quiet >"$TMP/synth.ndjson" &&
	pd-fetch --quiet "$TMP/synth.ndjson" >"$TMP/fetched.ndjson" &&
	pd-embed --dims 32 --save-model "$TMP/m.pdm" --quiet "$TMP/fetched.ndjson" >"$TMP/emb.ndjson" &&
	pd-cluster --quiet "$TMP/emb.ndjson" >"$TMP/clustered.ndjson" &&
	pd-mine --quiet "$TMP/clustered.ndjson" >"$TMP/mined.ndjson" &&
	pd-validate --quiet "$TMP/mined.ndjson" >"$TMP/run.ndjson"
setup=$?
grep '^{"type":"cluster"' "$TMP/clustered.ndjson" >"$TMP/clusters.ndjson"
grep '^{"type":"video"' "$TMP/clustered.ndjson" >"$TMP/videos.ndjson"
expect 'the run: validated patterns, a three-level hierarchy' '
	test "$setup" = 0 &&
	n=$(jq -c "select(.type == \"pattern\" and .status == \"validated\")" "$TMP/run.ndjson" | wc -l) &&
	echo "$n validated patterns" && [ "$n" -ge 3 ] &&
	test "$(jq -r "select(.type == \"cluster\") | .level" "$TMP/clusters.ndjson" | sort -u | tr "\n" " ")" = "macro meso micro "'

# own.py PATTERNS VIDEOS MATCHES: for each pattern not rejected, the videos whose
# cluster path holds its cluster are exactly those with a match record for it
cat >"$TMP/own.py" <<'PY'
import json, sys, collections
pats = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"pattern"')]
pats = [p for p in pats if p.get("status") != "rejected"]
vids = {}
for l in open(sys.argv[2]):
    v = json.loads(l)
    if "cluster" in v: vids[v["id"]] = set(v["cluster"].values())
got = collections.defaultdict(set)
for l in open(sys.argv[3]):
    o = json.loads(l)
    if o["type"] == "match": got[o["pattern_id"]].add(o["video_id"])
bad = 0; total = 0; levels = collections.Counter()
for p in pats:
    own = {v for v, cs in vids.items() if p["cluster"] in cs}
    total += len(own); levels[p["level"]] += 1
    if own != got[p["id"]]:
        bad += 1
        print("pattern", p["id"], p["cluster"], "own", len(own), "matched", len(got[p["id"]] & own),
              "off", len(got[p["id"]] - own))
print(len(pats), "patterns", dict(levels), total, "pattern-video pairs,", bad, "patterns differ")
sys.exit(1 if bad or not pats else 0)
PY

run pd-match --patterns "$TMP/run.ndjson" --no-metric "$TMP/videos.ndjson"
cp "$OUT" "$TMP/m-run.out"
expect 'validated patterns: every video of the pattern'"'"'s cluster gets it, no other video does' '
	check_status 0 && ! grep -q "radius" "$ERR" && /usr/bin/python3 "$TMP/own.py" "$TMP/run.ndjson" "$TMP/videos.ndjson" "$OUT"'
run pd-match --patterns "$TMP/mined.ndjson" --no-metric "$TMP/videos.ndjson"
expect 'pd-mine'"'"'s candidates at every level: the same, exactly' '
	check_status 0 && /usr/bin/python3 "$TMP/own.py" "$TMP/mined.ndjson" "$TMP/videos.ndjson" "$OUT" &&
	grep -q "\"status\":\"candidate\"" "$OUT"'
grep '^{"type":"pattern"' "$TMP/run.ndjson" >"$TMP/patterns.ndjson"
run pd-match --patterns "$TMP/patterns.ndjson" --clusters "$TMP/clusters.ndjson" --no-metric "$TMP/videos.ndjson"
expect '--clusters FILE gives the same answers as the cluster records of the pattern file' '
	check_status 0 && cmp "$OUT" "$TMP/m-run.out"'
run pd-match --patterns "$TMP/patterns.ndjson" --no-metric "$TMP/videos.ndjson"
cp "$OUT" "$TMP/m-radius.out"
expect 'without a hierarchy: the radius rule, with one warning' '
	check_status 0 && test "$(grep -c "apply within their radius" "$ERR")" = 1 && test "$(wc -l <"$ERR")" = 1'
expect 'the radius rule misses videos of the pattern'"'"'s own cluster and matches others (what the hierarchy fixes)' '
	! /usr/bin/python3 "$TMP/own.py" "$TMP/run.ndjson" "$TMP/videos.ndjson" "$TMP/m-radius.out"'
run pd-match --quiet --patterns "$TMP/patterns.ndjson" --no-metric "$TMP/videos.ndjson"
expect '--quiet: no warning' 'check_status 0 && test ! -s "$ERR"'

# drafts: titles (and durations) of 300 videos, embedded with the saved model
jq -c 'select(.type == "video") | {type: "draft", ref: .id, title, duration_s}' "$TMP/fetched.ndjson" |
	awk 'NR % 20 == 1' >"$TMP/drafts.ndjson"
jq -c '{type: "video", id: .ref, title, duration_s}' "$TMP/drafts.ndjson" >"$TMP/dv.ndjson"
pd-embed --quiet --model "$TMP/m.pdm" "$TMP/dv.ndjson" >"$TMP/dv-emb.ndjson" &&
	pd-cluster --quiet --no-metric --assign "$TMP/clusters.ndjson" "$TMP/dv-emb.ndjson" >"$TMP/dv-assigned.ndjson"
assign=$?
run pd-match --patterns "$TMP/mined.ndjson" --embed-model "$TMP/m.pdm" --group --recommend --no-metric "$TMP/drafts.ndjson"
expect 'drafts: placed where pd-cluster --assign places the same text; patterns and recommendations only from that path' '
	check_status 0 && test "$assign" = 0 &&
	/usr/bin/python3 - "$TMP/dv-assigned.ndjson" "$OUT" "$TMP/mined.ndjson" <<"PY"
import json, sys
place = {}
for l in open(sys.argv[1]):
    v = json.loads(l)
    if v["type"] == "video" and "cluster" in v: place[v["id"]] = v["cluster"]
pats = {}
for l in open(sys.argv[3]):
    if l.startswith("{\"type\":\"pattern\""):
        p = json.loads(l)
        if p.get("status") != "rejected": pats[p["id"]] = p
n = nm = nr = 0
for l in open(sys.argv[2]):
    g = json.loads(l)
    path = g.get("cluster")
    assert path == place.get(g["video_id"]), (g["video_id"], path, place.get(g["video_id"]))
    on = set(path.values())
    want = {pid for pid, p in pats.items() if p["cluster"] in on}
    assert {m["pattern_id"] for m in g["matches"]} == want, g["video_id"]
    for m in g["matches"]:
        assert m["cluster"] in on and m["level"] == pats[m["pattern_id"]]["level"]
    gains = [r["expected_gain"] for r in g["recommendations"]]
    assert gains == sorted(gains, reverse=True), gains
    for r in g["recommendations"]:
        assert r["cluster"] in on and r["expected_gain"] > 0
        assert r["expected_gain_ci"] is None or len(r["expected_gain_ci"]) == 2
        assert not any(m["pattern_id"] == r["pattern_id"] and m["has_feature"] for m in g["matches"])
    n += 1; nm += len(g["matches"]); nr += len(g["recommendations"])
print(n, "drafts,", nm, "matches,", nr, "recommendations, all on their own path")
assert n == len(place) and nm > 0 and nr > 0
PY'
grep '^{"type":"pattern"' "$TMP/mined.ndjson" >"$TMP/candidates.ndjson"
run pd-match --patterns "$TMP/candidates.ndjson" --embed-model "$TMP/m.pdm" --group --recommend --no-metric --quiet "$TMP/drafts.ndjson"
expect 'for comparison, the radius rule gives drafts patterns of clusters off their path' '
	check_status 0 &&
	/usr/bin/python3 - "$TMP/dv-assigned.ndjson" "$OUT" <<"PY"
import json, sys
place = {}
for l in open(sys.argv[1]):
    v = json.loads(l)
    if v["type"] == "video" and "cluster" in v: place[v["id"]] = set(v["cluster"].values())
off = tot = 0
for l in open(sys.argv[2]):
    g = json.loads(l)
    for m in g["matches"] + g["recommendations"]:
        tot += 1; off += m["cluster"] not in place[g["video_id"]]
print("radius rule:", off, "of", tot, "matches and recommendations off the draft'"'"'s path")
sys.exit(0 if off > 0 else 1)
PY'
test_done
