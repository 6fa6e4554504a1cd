#!/usr/bin/env bash
# t1200-match-basic.sh — pd-match on files, no services: planted truth (videos
# placed in a small hierarchy, with and without features: exactly which
# matches come out; the same patterns by the older radius rule without one),
# the niche named in each record, expected performance (from the lift or from
# stats.effect) and recommendations with their intervals, provisional
# patterns, --group, pass-through, batch/thread independence, drafts (ids, a
# saved pd-embed model), coprocess mode (one line in, its answer out, before
# the next line), and bad input of every kind.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fake.sh"
. "$(dirname "$0")/lib/coproc.sh"
unset DATABASE_URL REDIS_URL
EX=$PD_TOP/examples
P=$EX/match-patterns.ndjson
C=$EX/match-clusters.ndjson
# jsel FILE SELECT EXPR: some record of FILE satisfies SELECT, and all those satisfy EXPR
jsel() { jq -n -e "[inputs | select($2)] | length >= 1 and all(.[]; $3)" "$1" >/dev/null; }
tsv() { jq -r "[.type, .video_id, (.pattern_id // \"-\"), (if has(\"has_feature\") then .has_feature else \"-\" end), (.rank // \"-\")] | @tsv" "$1"; }

# the hierarchy of match-clusters.ndjson: food (baking: c-bread, c-cake; grill:
# c-grill), tips, misc.  v2 and v6 are placed in food.grill, though within the
# radius of p-question (food.baking); v5 in food.baking, though near food.grill
run pd-match --patterns "$P" --clusters "$C" --recommend --recommend-topics --no-metric "$EX/match-videos.ndjson"
expect 'planted truth: exactly the patterns of each video'"'"'s clusters, has_feature and recommendations' '
	check_status 0 && test ! -s "$ERR" && tsv "$OUT" >"$TMP/got" &&
	printf "%s\n" \
		"match	v1	p-howto	true	-" "match	v1	p-mid	true	-" "match	v1	p-question	false	-" \
		"match	v2	p-mid	true	-" \
		"match	v3	p-short	true	-" \
		"match	v5	p-howto	true	-" "match	v5	p-mid	false	-" "match	v5	p-question	false	-" \
		"recommendation	v5	p-mid	-	1" \
		"match	v6	p-mid	true	-" \
		"match	v7	p-howto	false	-" "match	v7	p-mid	false	-" "match	v7	p-question	false	-" \
		"recommendation	v7	p-howto	-	1" "recommendation	v7	p-mid	-	2" \
		"match	draft-1	p-howto	true	-" "match	draft-1	p-mid	false	-" "match	draft-1	p-question	true	-" \
		"recommendation	draft-1	p-mid	-	1" >"$TMP/want" &&
	diff "$TMP/want" "$TMP/got"'
expect 'records name the niche: cluster, level, label (the pattern'"'"'s, else its cluster'"'"'s); similarity and radius as information' '
	jsel "$OUT" ".video_id == \"v1\" and .pattern_id == \"p-howto\"" ".cluster == \"c-bread\" and .level == \"micro\" and .label == \"bread, loaf\" and .similarity == 1 and .radius == 0.1 and .kind == \"evergreen\"" &&
	jsel "$OUT" ".video_id == \"v2\" and .pattern_id == \"p-mid\"" ".cluster == \"food\" and .level == \"macro\" and .label == \"bread, kitchen, grill\" and .similarity == 0.8 and .radius == 0.15" &&
	jsel "$OUT" ".pattern_id == \"p-question\"" ".level == \"meso\" and .label == \"baking, oven\""'
expect 'expected performance: from the lift (older records) or median_perf_without x effect, with intervals' '
	jsel "$OUT" ".video_id == \"v1\" and .pattern_id == \"p-howto\"" ".expected_perf == 3 and .expected_perf_ci == [2.25, 3.75] and (has(\"effect\") | not)" &&
	jsel "$OUT" ".type == \"match\" and .pattern_id == \"p-mid\"" ".expected_perf == 1.4 and .expected_perf_ci == [1.1, 1.8] and .effect == 1.4 and .effect_ci == [1.1, 1.8]" &&
	jsel "$OUT" ".type == \"recommendation\" and .video_id == \"v7\" and .rank == 1" ".pattern_id == \"p-howto\" and .expected_gain == 2 and .expected_gain_ci == [1.25, 2.75] and (.explanation | startswith(\"lacks titles containing\"))" &&
	jsel "$OUT" ".type == \"recommendation\" and .pattern_id == \"p-mid\"" ".expected_gain == 0.4 and .expected_gain_ci == [0.1, 0.8] and .effect == 1.4 and .level == \"macro\""'
run pd-match --patterns "$P" --clusters "$C" --recommend --no-metric "$EX/match-videos.ndjson"
expect 'by default no topic feature (a title word, a tag, the category) is recommended' '
	check_status 0 && [ "$(jq -r "select(.type==\"recommendation\") | .pattern_id" "$OUT" | sort -u | tr "\n" " ")" = "p-mid " ]'
grep -h . "$C" "$P" >"$TMP/cp.ndjson"
run pd-match --patterns "$TMP/cp.ndjson" --recommend --recommend-topics --no-metric "$EX/match-videos.ndjson"
expect 'the cluster records of the pattern file are the hierarchy too' '
	check_status 0 && test ! -s "$ERR" && tsv "$OUT" | diff "$TMP/want" -'
# --clusters wins over the pattern file's cluster records (here: a hierarchy
# where c-grill is gone, so v2 and v6 sit in food.baking)
jq -c 'select(.id != "c-grill" and .id != "food.grill")' "$C" >"$TMP/c2.ndjson"
grep -h . "$TMP/c2.ndjson" "$P" >"$TMP/cp2.ndjson"
run pd-match --patterns "$TMP/cp2.ndjson" --clusters "$C" --recommend --recommend-topics --no-metric "$EX/match-videos.ndjson"
expect '--clusters FILE wins over the cluster records of the pattern file' '
	check_status 0 && tsv "$OUT" | diff "$TMP/want" -'
run pd-match --patterns "$TMP/cp2.ndjson" --group --no-metric "$EX/match-videos.ndjson"
expect 'another hierarchy, another answer (v6 now in food.baking)' '
	check_status 0 && jsel "$OUT" ".video_id == \"v6\"" ".cluster.meso == \"food.baking\" and ([.matches[].pattern_id] == [\"p-howto\", \"p-mid\", \"p-question\"])"'

# the older rule, without a hierarchy: the radius of each pattern's centroid
run pd-match --patterns "$P" --recommend --recommend-topics --no-metric "$EX/match-videos.ndjson"
expect 'without a hierarchy: patterns within their radius, one warning' '
	check_status 0 && test "$(wc -l <"$ERR")" = 1 && grep -q "no cluster hierarchy" "$ERR" &&
	tsv "$OUT" >"$TMP/got" &&
	printf "%s\n" \
		"match	v1	p-howto	true	-" "match	v1	p-mid	true	-" "match	v1	p-question	false	-" \
		"match	v2	p-question	true	-" \
		"match	v3	p-short	true	-" \
		"match	v5	p-howto	true	-" "match	v5	p-mid	false	-" "match	v5	p-question	false	-" \
		"recommendation	v5	p-mid	-	1" \
		"match	v6	p-mid	true	-" "match	v6	p-question	false	-" \
		"match	v7	p-howto	false	-" "match	v7	p-mid	false	-" "match	v7	p-question	false	-" \
		"recommendation	v7	p-howto	-	1" "recommendation	v7	p-mid	-	2" \
		"match	draft-1	p-howto	true	-" "match	draft-1	p-mid	false	-" "match	draft-1	p-question	true	-" \
		"recommendation	draft-1	p-mid	-	1" >"$TMP/want-radius" &&
	diff "$TMP/want-radius" "$TMP/got"'
expect 'a rejected pattern never matches' '! grep -q p-rejected "$OUT"'
expect 'by radius: similarity, expected_perf and its interval as with the hierarchy' '
	jsel "$OUT" ".video_id == \"v1\" and .pattern_id == \"p-howto\"" ".similarity == 1 and .expected_perf == 3 and .expected_perf_ci == [2.25, 3.75]" &&
	jsel "$OUT" ".video_id == \"v2\" and .pattern_id == \"p-question\"" ".similarity == 0.8 and .cluster == \"food.baking\"" &&
	jsel "$OUT" ".type == \"recommendation\" and .video_id == \"v7\" and .rank == 1" ".expected_gain == 2 and (.explanation | startswith(\"lacks titles containing\"))"'
expect 'explanations are one line and say has / lacks' '
	jsel "$OUT" ".type == \"match\" and .video_id == \"v1\" and .pattern_id == \"p-howto\"" "(.explanation | startswith(\"has \")) and (.explanation | test(\"\\n\") | not)"'
run pd-match --quiet --patterns "$P" --no-metric "$EX/match-videos.ndjson"
expect 'without a hierarchy, --quiet: no warning' 'check_status 0 && test ! -s "$ERR"'

run pd-match --patterns "$P" --clusters "$C" --recommend --recommend-topics --group "$EX/match-videos.ndjson"
expect '--group: one match_group per input, in order, with its place, empty ones too' '
	check_status 0 &&
	test "$(jq -r "select(.type == \"match_group\") | .video_id" "$OUT" | tr "\n" " ")" = "v1 v2 v3 v4 v5 v6 v7 draft-1 " &&
	jsel "$OUT" ".video_id == \"v4\"" ".cluster == {\"macro\": \"misc\", \"meso\": \"misc.all\", \"micro\": \"c-misc\"} and .matches == [] and .recommendations == []" &&
	jsel "$OUT" ".video_id == \"v6\"" ".cluster == {\"macro\": \"food\", \"meso\": \"food.grill\", \"micro\": \"c-grill\"}" &&
	jsel "$OUT" ".video_id == \"v7\"" "[.recommendations[].pattern_id] == [\"p-howto\", \"p-mid\"]" &&
	tail -n 1 "$OUT" | jq -e ".type == \"metric\" and .patterns == 4 and .patterns_skipped_rejected == 1
		and .videos_answered == 8 and .records_in == 8 and .records_out == 8
		and .applies_by == \"hierarchy\" and .clusters == 12"'

# provisional patterns: marked, and recommended only when asked
jq -c 'if .id == "p-mid" then .status = "provisional" else . end' "$P" >"$TMP/prov.ndjson"
run pd-match --patterns "$TMP/prov.ndjson" --clusters "$C" --recommend --recommend-topics --group --no-metric "$EX/match-videos.ndjson"
expect 'a provisional pattern: its matches say so; it is not recommended' '
	check_status 0 &&
	jsel "$OUT" ".video_id == \"v7\"" "[.recommendations[].pattern_id] == [\"p-howto\"] and ([.matches[] | select(.pattern_id == \"p-mid\") | .status] == [\"provisional\"]) and ([.matches[] | select(.pattern_id == \"p-howto\") | has(\"status\")] == [false])"'
run pd-match --patterns "$TMP/prov.ndjson" --clusters "$C" --recommend-provisional --recommend-topics --group --no-metric "$EX/match-videos.ndjson"
expect '--recommend-provisional: recommended too, and marked' '
	check_status 0 &&
	jsel "$OUT" ".video_id == \"v7\"" "[.recommendations[] | [.pattern_id, .status]] == [[\"p-howto\", null], [\"p-mid\", \"provisional\"]]"'

{ echo '{"type":"note","n":1}'; head -n 2 "$EX/match-videos.ndjson"; echo '{"type":"cluster","id":"c9","extra":{"x":[1,2]}}'; } >"$TMP/mixed.ndjson"
run pd-match --patterns "$P" --clusters "$C" --group --no-metric "$TMP/mixed.ndjson"
expect 'other records pass through unchanged and in order' '
	check_status 0 && test "$(jq -r .type "$OUT" | tr "\n" " ")" = "note match_group match_group cluster " &&
	sed -n 1p "$OUT" | cmp - <(sed -n 1p "$TMP/mixed.ndjson") && sed -n 4p "$OUT" | cmp - <(sed -n 4p "$TMP/mixed.ndjson")'

# a larger random set: batch size, --unbuffered and BLAS threads must not change a byte
# (first by the radius rule: the patterns of pats.ndjson have no hierarchy)
/usr/bin/python3 - "$TMP" <<'EOF'
import sys, json, base64, random, struct, math
w = sys.argv[1]; r = random.Random(5); d = 64
def unit(v):
    n = math.sqrt(sum(x * x for x in v)); return [x / n for x in v]
cents = [unit([r.gauss(0, 1) for _ in range(d)]) for _ in range(10)]
feats = [{"kind": "ngram", "value": "bread"}, {"kind": "short"}, {"kind": "title", "value": "question"}]
with open(w + "/pats.ndjson", "w") as f:
    for i in range(30):
        f.write(json.dumps({"type": "pattern", "id": "p%02d" % i, "feature": feats[i % 3],
            "direction": "positive", "centroid": cents[i % 10], "radius": 0.2 + 0.01 * (i % 7),
            "stats": {"median_perf_with": 1 + i / 10, "median_perf_without": 1.0, "lift": 1.5,
                      "lift_ci": [1.2, 1.9]}, "status": "validated"}) + "\n")
with open(w + "/many.ndjson", "w") as f:
    for i in range(3000):
        c = cents[r.randrange(10)]
        v = [x + r.gauss(0, 0.07) for x in c]
        t = r.choice(["bread", "why bread?", "cake", "How to bake bread"])
        f.write(json.dumps({"type": "video", "id": "v%d" % i, "title": t,
            "duration_s": r.choice([30, 200, 400]),
            "embedding_b64": base64.b64encode(struct.pack("<%df" % d, *v)).decode()}) + "\n")
EOF
run pd-match --patterns "$TMP/pats.ndjson" --recommend --recommend-topics --no-metric "$TMP/many.ndjson"
cp "$OUT" "$TMP/ref.out"
expect 'the random set gives matches of every kind' '
	check_status 0 && test "$(grep -c "\"type\":\"match\"" "$TMP/ref.out")" -gt 3000 &&
	grep -q "\"has_feature\":true" "$TMP/ref.out" && grep -q "\"has_feature\":false" "$TMP/ref.out"'
run pd-match --patterns "$TMP/pats.ndjson" --recommend --recommend-topics --no-metric --batch 7 "$TMP/many.ndjson"
expect '--batch 7 gives the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/ref.out"'
IN=$TMP/many.ndjson run pd-match --patterns "$TMP/pats.ndjson" --recommend --recommend-topics --no-metric --unbuffered
expect '--unbuffered (one at a time) gives the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/ref.out"'
OPENBLAS_NUM_THREADS=2 run pd-match --patterns "$TMP/pats.ndjson" --recommend --recommend-topics --no-metric "$TMP/many.ndjson"
expect '2 BLAS threads give the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/ref.out"'
run pd-match --patterns "$TMP/pats.ndjson" --recommend --recommend-topics --no-metric --threads 1 "$TMP/many.ndjson"
expect '--threads 1 (no reader thread) gives the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/ref.out"'
# every match is within its radius, every non-match outside (recomputed in Python)
expect 'matches agree with cosine similarity recomputed independently' '
	/usr/bin/python3 - "$TMP/pats.ndjson" "$TMP/many.ndjson" "$TMP/ref.out" <<"EOF"
import sys, json, base64, struct, math
pats = [json.loads(l) for l in open(sys.argv[1])]
got = set()
for l in open(sys.argv[3]):
    o = json.loads(l)
    if o["type"] == "match": got.add((o["video_id"], o["pattern_id"]))
want = set(); close = 0
for l in open(sys.argv[2]):
    v = json.loads(l); b = base64.b64decode(v["embedding_b64"])
    e = struct.unpack("<%df" % (len(b) // 4), b); n = math.sqrt(sum(x * x for x in e))
    for p in pats:
        c = p["centroid"]; cn = math.sqrt(sum(x * x for x in c))
        s = sum(a * b for a, b in zip(e, c)) / n / cn
        if abs(s - (1 - p["radius"])) < 1e-5:   # too close to call in float32
            close += 1; got.discard((v["id"], p["id"])); continue
        if s >= 1 - p["radius"]: want.add((v["id"], p["id"]))
extra, missing = got - want, want - got
print(len(want), "expected;", len(extra), "extra;", len(missing), "missing;", close, "on the edge")
sys.exit(1 if extra or missing else 0)
EOF'

# the same videos clustered by pd-cluster, a pattern on every second cluster:
# each video gets exactly the patterns of the clusters pd-cluster put it in,
# whatever the batch, threads or BLAS threads
pd-cluster --quiet --macro 300-3000 --meso 60-600 --micro 10-100 "$TMP/many.ndjson" >"$TMP/many-cl.ndjson"
jq -c 'select(.type == "cluster")' "$TMP/many-cl.ndjson" >"$TMP/many-clusters.ndjson"
jq -c --slurp '[.[] | select(.type == "cluster")] | to_entries[] | select(.key % 2 == 0) | .value as $c |
	{type: "pattern", id: ("h" + $c.id), cluster: $c.id, level: $c.level, centroid_b64: $c.centroid_b64,
	 radius: $c.radius, direction: "positive",
	 feature: ([{kind: "ngram", value: "bread"}, {kind: "short"}, {kind: "title", value: "question"}][.key / 2 % 3]),
	 stats: {effect: 1.5, effect_ci: [1.2, 1.9], median_perf_with: 1.6, median_perf_without: 1}}' \
	"$TMP/many-cl.ndjson" >"$TMP/hpats.ndjson"
run pd-match --patterns "$TMP/hpats.ndjson" --clusters "$TMP/many-clusters.ndjson" --recommend --recommend-topics --no-metric "$TMP/many.ndjson"
cp "$OUT" "$TMP/href.out"
expect 'by the hierarchy: each video gets exactly the patterns of the clusters pd-cluster put it in' '
	check_status 0 && test -s "$TMP/hpats.ndjson" &&
	/usr/bin/python3 - "$TMP/hpats.ndjson" "$TMP/many-cl.ndjson" "$TMP/href.out" <<"EOF"
import json, sys
pats = [json.loads(l) for l in open(sys.argv[1])]
want = set()
for l in open(sys.argv[2]):
    v = json.loads(l)
    if v["type"] != "video": continue
    on = set(v["cluster"].values())
    want |= {(v["id"], p["id"]) for p in pats if p["cluster"] in on}
got = {(o["video_id"], o["pattern_id"]) for o in map(json.loads, open(sys.argv[3])) if o["type"] == "match"}
print(len(pats), "patterns;", len(want), "expected;", len(got - want), "extra;", len(want - got), "missing")
sys.exit(0 if got == want and want else 1)
EOF'
run pd-match --patterns "$TMP/hpats.ndjson" --clusters "$TMP/many-clusters.ndjson" --recommend --recommend-topics --no-metric --batch 7 "$TMP/many.ndjson"
expect 'by the hierarchy, --batch 7 gives the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/href.out"'
IN=$TMP/many.ndjson run pd-match --patterns "$TMP/hpats.ndjson" --clusters "$TMP/many-clusters.ndjson" --recommend --recommend-topics --no-metric --unbuffered
expect 'by the hierarchy, --unbuffered gives the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/href.out"'
OPENBLAS_NUM_THREADS=2 run pd-match --patterns "$TMP/hpats.ndjson" --clusters "$TMP/many-clusters.ndjson" --recommend --recommend-topics --no-metric --threads 1 "$TMP/many.ndjson"
expect 'by the hierarchy, --threads 1 and 2 BLAS threads give the same bytes' 'check_status 0 && cmp "$OUT" "$TMP/href.out"'

# drafts
printf '%s\n' '{"type":"draft","title":"How to fold dough?","embedding":[1,0,0,0]}' \
	'{"type":"draft","title":"How to fold dough?","embedding":[1,0,0,0]}' \
	'{"type":"draft","title":"How to fold dough?","duration_s":400,"embedding":[1,0,0,0]}' \
	'{"type":"draft","id":"mine","title":"Plain","embedding":[1,0,0,0]}' >"$TMP/drafts.ndjson"
run pd-match --patterns "$P" --clusters "$C" --group --no-metric "$TMP/drafts.ndjson"
expect 'drafts: a deterministic draft: id from the title (and duration), or the given id' '
	check_status 0 && ids=$(jq -r .video_id "$OUT" | tr "\n" " ") && echo "$ids" &&
	set -- $ids && [[ $1 == draft:* ]] && [ "$1" = "$2" ] && [ "$1" != "$3" ] && [ "$4" = mine ] &&
	jsel "$OUT" ".video_id == \"mine\"" "[.matches[].has_feature] == [false, false, false]" &&
	sed -n 3p "$OUT" | jq -e "[.matches[] | select(.pattern_id == \"p-mid\") | .has_feature] == [true]"'

# drafts through a saved pd-embed model: a draft with a training video's text
# gets exactly that video's embedding
if [ -x "$PD_TOP/bin/pd-embed" ]; then
	/usr/bin/python3 - >"$TMP/corpus.ndjson" <<'EOF'
import json, random
r = random.Random(3)
topics = [["sourdough", "bread", "starter", "loaf", "crust"], ["guitar", "chords", "strum", "riff", "tuning"],
          ["python", "code", "function", "loop", "debug"], ["garden", "tomato", "soil", "seeds", "compost"]]
for i in range(80):
    t = topics[i % 4]
    title = " ".join(r.sample(t, 3)) + " " + r.choice(["tips", "guide", "for beginners", "explained"])
    print(json.dumps({"type": "video", "id": "c%03d" % i, "channel_id": "ch%d" % (i % 9), "title": title,
                      "description": " ".join(r.sample(t, 4)), "tags": r.sample(t, 2), "duration_s": 100 + i}))
EOF
	pd-embed --dims 16 --save-model "$TMP/m.bin" "$TMP/corpus.ndjson" >"$TMP/emb.ndjson" 2>"$TMP/embed.err"
	jq -c 'select(.type == "video" and .id == "c005") | {type: "pattern", id: "p-c005",
		feature: {kind: "ngram", value: "tips"}, centroid_b64: .embedding_b64, radius: 0.02,
		stats: {median_perf_with: 2, median_perf_without: 1}}' "$TMP/emb.ndjson" >"$TMP/mp.ndjson"
	jq -c 'select(.type == "video" and (.id == "c005" or .id == "c006")) |
		{type: "draft", ref: .id, title, description, tags, duration_s}' "$TMP/corpus.ndjson" >"$TMP/mdrafts.ndjson"
	run pd-match --patterns "$TMP/mp.ndjson" --embed-model "$TMP/m.bin" --group --no-metric "$TMP/mdrafts.ndjson"
	expect 'drafts embedded with the saved pd-embed model match as the training video did' '
		check_status 0 && test -s "$TMP/mp.ndjson" &&
		jsel "$OUT" ".video_id == \"c005\"" "(.matches | length) == 1 and .matches[0].similarity > 0.99999" &&
		jsel "$OUT" ".video_id == \"c006\"" ".matches == []"'
	run pd-match --patterns "$TMP/mp.ndjson" --embed-model "$EX/match-patterns.ndjson" "$TMP/mdrafts.ndjson"
	expect 'a file that is not a model is a usage error' 'check_status 2 && grep -q "pd-match: " "$ERR"'
else
	skip 'drafts embedded with the saved pd-embed model' 'no bin/pd-embed'
fi
run pd-match --patterns "$P" '--no-metric' <(echo '{"type":"draft","title":"no vector"}')
expect 'a draft without embedding and without --embed-model is rejected' '
	check_status 1 && grep -q "no --embed-model" "$ERR"'

# drafts through the embeddings provider (PD_EMBED_URL, as pd-embed --provider
# openai): a loopback OpenAI-compatible server; the batch's drafts go in one request
fake_start "$PD_TOP/tests/fake_openai_embed.py" --dim 8 --key sk-test --log "$TMP/oai.log" --max-seconds 120
export PD_EMBED_URL=$FAKE_URL/v1 PD_EMBED_MODEL=fake-1 PD_EMBED_API_KEY=sk-test
echo '{"type":"video","id":"t1","title":"Sourdough starter for beginners","tags":["bread","baking"],"description":"Feed it daily."}' >"$TMP/t1.ndjson"
pd-embed --provider openai --no-metric "$TMP/t1.ndjson" >"$TMP/t1e.ndjson" 2>"$TMP/t1e.err"
jq -c '{type: "pattern", id: "p-t1", feature: {kind: "tag", value: "bread"}, centroid_b64: .embedding_b64,
	radius: 0.01, stats: {median_perf_with: 2, median_perf_without: 1}}' "$TMP/t1e.ndjson" >"$TMP/pt1.ndjson"
printf '%s\n' '{"type":"draft","ref":"a","title":"Sourdough starter for beginners","tags":["bread","baking"],"description":"Feed it daily."}' \
	'{"type":"draft","ref":"b","title":"Guitar riffs"}' >"$TMP/odrafts.ndjson"
: >"$TMP/oai.log"
run pd-match --patterns "$TMP/pt1.ndjson" --group --no-metric "$TMP/odrafts.ndjson"
expect 'drafts embedded by the provider as pd-embed embeds a video with the same text, in one request' '
	check_status 0 && test -s "$TMP/pt1.ndjson" &&
	jsel "$OUT" ".video_id == \"a\"" "[.matches[] | [.pattern_id, .similarity, .has_feature]] == [[\"p-t1\", 1, true]]" &&
	jsel "$OUT" ".video_id == \"b\"" ".matches == []" &&
	test "$(wc -l <"$TMP/oai.log")" = 1'
run pd-match --patterns "$P" --group --no-metric "$TMP/odrafts.ndjson"
expect 'a provider embedding of another dimension than the patterns is rejected with FILE:LINE' '
	check_status 1 && grep -q "odrafts.ndjson:1: .a.: the provider.s embedding has 8 dimensions, the patterns have 4" "$ERR" &&
	grep -q "odrafts.ndjson:2: " "$ERR"'
fake_stop
PD_EMBED_URL=http://127.0.0.1:1/v1 PD_HTTP_MAX_RETRIES=1 PD_HTTP_BACKOFF_MS=10 run pd-match --patterns "$TMP/pt1.ndjson" "$TMP/odrafts.ndjson"
expect 'the provider unreachable: exit 3 with a message' 'check_status 3 && grep -q "pd-match: " "$ERR"'
unset PD_EMBED_URL PD_EMBED_MODEL PD_EMBED_API_KEY

# ids resolved through Pinecone (no database): a loopback server speaking
# Pinecone's data plane (GET /vectors/fetch?ids=..&namespace=.., Api-Key)
cat >"$TMP/fake_pinecone.py" <<'PYEOF'
import json, os, sys
sys.path.insert(0, os.environ["PD_TOP"] + "/tests")
import fake_http
VECS = {"v1": [1, 0, 0, 0], "v3": [0, 1, 0.1, 0]}
def handle(req):
    if req.path != "/vectors/fetch" or req.method != "GET":
        return None
    if req.headers.get("api-key") != "test-key":
        return fake_http.json_reply(401, {"code": 16, "message": "Invalid API Key"})
    ids = req.query.get("ids", [])
    return fake_http.json_reply(200, {"namespace": req.arg("namespace", ""), "vectors":
        {i: {"id": i, "values": VECS[i]} for i in ids if i in VECS}})
fake_http.main(handle, description="fake Pinecone data plane")
PYEOF
fake_start "$TMP/fake_pinecone.py" --log "$TMP/pc.log" --fault 'GET /vectors/fetch.*v3=503x1'
port=$FAKE_PORT
printf '%s\n' '{"type":"video","id":"v1","title":"How to bake bread","duration_s":400}' \
	'{"type":"video","id":"v3"}' '{"type":"video","id":"v9"}' >"$TMP/pc-in.ndjson"
PD_HTTP_BACKOFF_MS=10 PINECONE_API_KEY=test-key PINECONE_INDEX_HOST=http://127.0.0.1:$port PINECONE_NAMESPACE=vids \
	run pd-match --patterns "$P" --clusters "$C" --group --no-metric "$TMP/pc-in.ndjson"
fake_stop
expect 'ids without a database: embeddings fetched from Pinecone (a 503 retried), the input fields kept' '
	check_status 1 &&
	jsel "$OUT" ".video_id == \"v1\"" "[.matches[] | [.pattern_id, .has_feature]] == [[\"p-howto\", true], [\"p-mid\", true], [\"p-question\", false]]" &&
	jsel "$OUT" ".video_id == \"v3\"" "[.matches[].pattern_id] == [\"p-short\"] and .matches[0].has_feature == false" &&
	grep -q "pc-in.ndjson:3: video .v9. has no embedding and is not stored" "$ERR" &&
	test "$(jq -r ".headers[\"api-key\"]" "$TMP/pc.log" | sort -u)" = test-key &&
	jsel "$TMP/pc.log" ".query.ids == [\"v1\"]" ".query.namespace == [\"vids\"]" &&
	test "$(jq -r .status "$TMP/pc.log" | grep -c 503)" = 1'

# coprocess: each answer arrives before the next line is written
cop_start "$TMP/cp.err" pd-match --patterns "$P" --clusters "$C" --group --unbuffered
answers=0
for v in v1 v4 v7; do
	cop_send "$(grep "\"id\":\"$v\"" "$EX/match-videos.ndjson")"
	if cop_recv line && jq -e --arg v "$v" '.video_id == $v' <<<"$line" >/dev/null; then
		answers=$((answers + 1))
	fi
done
cop_send 'not json'
cop_recv errline
cop_stop
expect 'coprocess: each line answered at once, a bad line answered with match_error' '
	echo "answers $answers, status $COP_STATUS, error line: $errline" &&
	test "$answers" = 3 && jq -e ".type == \"match_error\" and .line == 4" <<<"$errline" &&
	test "$COP_STATUS" = 1 && grep -q "(stdin):4:" "$TMP/cp.err"'

# bad input of every kind: FILE:LINE on stderr, the record whole in --rejects,
# good records still answered, exit 1
nan=$(/usr/bin/python3 -c 'import base64,struct; print(base64.b64encode(struct.pack("<4f", 1, float("nan"), 0, 0)).decode())')
{
	echo '{"type":"video","id":"ok1","title":"How to a","embedding":[1,0,0,0]}'
	echo '{"type":"video","id":"bad-json","title":'
	echo '{"type":"video","id":"dim3","title":"x","embedding":[1,0,0]}'
	echo "{\"type\":\"video\",\"id\":\"nan\",\"title\":\"x\",\"embedding_b64\":\"$nan\"}"
	echo '{"type":"video","title":"no id","embedding":[1,0,0,0]}'
	echo '{"type":"draft","embedding":[1,0,0,0]}'
	echo '{"type":"video","id":"bad-tags","tags":"x","embedding":[1,0,0,0]}'
	echo '{"type":"video","id":"ok2","title":"How to b","embedding":[1,0,0,0]}'
} >"$TMP/bad.ndjson"
run pd-match --patterns "$P" --clusters "$C" --group --rejects "$TMP/rej.ndjson" "$TMP/bad.ndjson"
expect 'bad records: each reported with FILE:LINE, written whole to --rejects, exit 1' '
	check_status 1 &&
	for n in 2 3 4 5 6 7; do grep -q "^pd-match: $TMP/bad.ndjson:$n: " "$ERR" || { echo "no message for line $n"; cat "$ERR"; exit 1; }; done &&
	grep -q "embedding has 3 dimensions, the patterns have 4" "$ERR" &&
	diff <(sed -n 2,7p "$TMP/bad.ndjson") "$TMP/rej.ndjson"'
expect 'bad records: the good ones are still answered' '
	test "$(jq -r "select(.type == \"match_group\") | .video_id" "$OUT" | tr "\n" " ")" = "ok1 ok2 " &&
	tail -n 1 "$OUT" | jq -e ".rejected == 6"'
run pd-match --patterns "$P" --clusters "$C" --strict "$TMP/bad.ndjson"
expect '--strict stops at the first bad record' 'check_status 1 && test "$(grep -c "^pd-match: " "$ERR")" -le 2'

# the reader thread (--threads 2) reads ahead, but rejects, over-long lines
# (spilled to --rejects), passed-through records and answers come out exactly
# as with one thread: the same stdout, stderr and --rejects, in the same order
{
	cat "$TMP/bad.ndjson"; /usr/bin/python3 -c 'print("z" * 5000)'; echo '{"type":"note"}'
	head -n 40 "$TMP/many.ndjson"; cat "$TMP/bad.ndjson"; /usr/bin/python3 -c 'print("w" * 3000)'
	head -n 5 "$TMP/many.ndjson"
} >"$TMP/mixbad.ndjson"
for t in 1 2; do
	run pd-match --patterns "$TMP/pats.ndjson" --threads $t --batch 3 --max-line 2000 \
		--rejects "$TMP/mix$t.rej" --no-metric "$TMP/mixbad.ndjson"
	cp "$OUT" "$TMP/mix$t.out"; cp "$ERR" "$TMP/mix$t.err"; echo "$status" >"$TMP/mix$t.status"
done
expect 'reading ahead: the same output, messages, --rejects and status as one thread' '
	cmp "$TMP/mix1.out" "$TMP/mix2.out" && cmp "$TMP/mix1.err" "$TMP/mix2.err" &&
	cmp "$TMP/mix1.rej" "$TMP/mix2.rej" && test "$(cat "$TMP/mix2.status")" = 1 &&
	test "$(grep -c "line longer than 2000 bytes" "$TMP/mix2.err")" = 2 &&
	test "$(wc -l <"$TMP/mix2.rej")" -ge 14 && grep -q "\"type\":\"note\"" "$TMP/mix2.out"'

# --unbuffered reads stdin itself: over-long lines there too
{ /usr/bin/python3 -c 'print("y" * 3000000)'; grep '"v3"' "$EX/match-videos.ndjson"; } >"$TMP/long.ndjson"
IN=$TMP/long.ndjson run pd-match --patterns "$P" --group --unbuffered --max-line 1000 --rejects "$TMP/long.rej" --no-metric
expect '--unbuffered: an over-long line is rejected whole, the next one answered' '
	check_status 1 && grep -q "(stdin):1: line longer than 1000 bytes" "$ERR" &&
	cmp "$TMP/long.rej" <(head -n 1 "$TMP/long.ndjson") &&
	test "$(jq -r .type "$OUT" | tr "\n" " ")" = "match_error match_group "'

# refused DESC REGEX ARG...: pd-match ARG... on the example videos is a usage
# error (exit 2) whose message matches REGEX
refused() {
	local desc=$1
	_re=$2
	shift 2
	run pd-match "$@" "$EX/match-videos.ndjson"
	expect "$desc" 'check_status 2 && grep -q -- "$_re" "$ERR"'
}

# bad pattern files
printf '%s\n' '{"type":"pattern","id":"a","feature":{"kind":"short"},"centroid":[1,0],"radius":0.1}' \
	'{"type":"pattern","id":"b","feature":{"kind":"nope"},"centroid":[1,0],"radius":0.1}' >"$TMP/badp.ndjson"
refused 'a bad pattern: usage error naming FILE:LINE' "badp.ndjson:2: pattern .b.: feature" \
	--patterns "$TMP/badp.ndjson"
printf '%s\n' '{"type":"pattern","id":"a","feature":{"kind":"short"},"centroid":[1,0],"radius":0.1}' \
	'{"type":"pattern","id":"c","feature":{"kind":"short"},"centroid":[1,0,0],"radius":0.1}' >"$TMP/badp2.ndjson"
refused 'patterns of mixed dimensions: usage error' ":2: .*3 dimensions" --patterns "$TMP/badp2.ndjson"
# patterns the jq edit makes bad, refused with the message named: stats
# that contradict themselves (lib/pattern.h's check), a cluster that is not
# there or of another level; NAME|EDIT|WHAT|MESSAGE
while IFS='|' read -r name edit what re; do
	jq -c "$edit" "$P" >"$TMP/$name.ndjson"
	refused "$what" "$name.ndjson:$re" --patterns "$TMP/$name.ndjson" --clusters "$C"
done <<'EOF'
contra1|if .id == "p-mid" then .direction = "negative" else . end|effect > 1 with direction negative: usage error naming FILE:LINE|2: pattern .p-mid.: stats: a negative pattern with effect 1.4
contra2|if .id == "p-mid" then .stats.median_perf_with = 0.9 else . end|median_perf_with below median_perf_without for a positive pattern: usage error naming FILE:LINE|2: pattern .p-mid.: stats: a positive pattern whose median perf with the feature (0.9) is lower than without (1)
contra3|if .id == "p-mid" then .stats.effect_ci = [1.5, 1.8] else . end|an effect interval that excludes its estimate: usage error naming FILE:LINE|2: .*effect_ci \[1.5, 1.8\] does not hold effect 1.4
contra4|if .id == "p-howto" then .stats.median_perf_with = 0.9 else . end|an older record (no effect) whose medians contradict its direction: refused too, as pd-store does|1: pattern .p-howto.: stats: a positive pattern whose median perf
nocl|if .id == "p-short" then .cluster = "c-gone" else . end|a pattern whose cluster is not in the hierarchy: usage error naming FILE:LINE|4: pattern .p-short.: cluster .c-gone. is not in the hierarchy
lvl|if .id == "p-short" then .level = "meso" else . end|a pattern of another level than its cluster: usage error naming FILE:LINE|4: .*level .meso., but cluster .c-tips. is a micro cluster
EOF
{ cat "$P"; echo '{"type":"cluster","id":"x","level":"macro"}'; } >"$TMP/badcl.ndjson"
refused 'a bad cluster record in the pattern file: usage error naming FILE:LINE' \
	"badcl.ndjson:6: a cluster record needs id, level and centroid" --patterns "$TMP/badcl.ndjson"
grep -v '"id":"food.grill"' "$C" >"$TMP/orphan.ndjson"
refused 'a hierarchy that does not hold (--clusters): usage error naming the cluster' \
	"orphan.ndjson: cluster .c-grill.: parent .food.grill. is not a meso cluster" \
	--patterns "$P" --clusters "$TMP/orphan.ndjson"
refused 'a missing --clusters file: usage error' "none.ndjson" --patterns "$P" --clusters "$TMP/none.ndjson"
jq -c '.centroid = [1, 0, 0]' "$C" >"$TMP/c3.ndjson"
refused 'a hierarchy of another dimension than the patterns: usage error' "3 dimensions" \
	--patterns "$P" --clusters "$TMP/c3.ndjson"
refused 'a missing pattern file: usage error' "none.ndjson" --patterns "$TMP/none.ndjson"
run pd-match --tz 25:00 --patterns "$P"
expect 'a bad --tz: usage error' 'check_status 2'
: >"$TMP/empty-patterns.ndjson"
run pd-match --patterns "$TMP/empty-patterns.ndjson" --clusters "$C" --no-metric "$EX/match-videos.ndjson"
expect "an empty pattern file: one warning that nothing will match" '
	[ "$(grep -c "^pd-match: no patterns to match ($TMP/empty-patterns.ndjson): every video gets none" "$ERR")" = 1 ] &&
	! grep -q "\"type\":\"match\"" "$OUT"'
test_done
