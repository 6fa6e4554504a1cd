#!/usr/bin/env bash
# pd-cluster: planted topics recovered, the hierarchy's invariants, --assign
# reproducing training exactly, --previous keeping ids, determinism whatever
# the BLAS thread count, small inputs, bad input of every kind.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/coproc.sh"
PY=/usr/bin/python3
# planted topics: nested macro/meso/micro directions plus noise (tests/drivers/planted_vectors.c)
GEN=$PD_TOP/build/drivers/planted_vectors
ARI="$PD_TOP/tests/lib/ari.py"
if [ ! -x "$GEN" ]; then
	not_ok "test driver built by make unit (build/drivers/planted_vectors): missing, run make unit"
	test_done
fi

"$GEN" 4000 48 80 3 "$TMP/in.ndjson" "$TMP/truth.ndjson"

run pd-cluster --seed 1 "$TMP/in.ndjson"
cp "$OUT" "$TMP/c1.ndjson"
expect 'clusters planted vectors, exit 0' 'check_status 0'
expect 'every video has macro, meso and micro ids and a similarity' '
	n=$(jq -c "select(.type==\"video\") | select(.cluster.macro and .cluster.meso and .cluster.micro and (.cluster_sim|type==\"number\"))" "$TMP/c1.ndjson" | wc -l)
	[ "$n" = 4000 ]'
expect 'micro clusters recover the planted topics (ARI >= 0.9)' '
	a=$($PY "$ARI" "$TMP/truth.ndjson" "$TMP/c1.ndjson" micro); echo "ARI $a"
	$PY -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$a"'
expect 'meso clusters recover the planted groups (ARI >= 0.9)' '
	a=$($PY "$ARI" "$TMP/truth.ndjson" "$TMP/c1.ndjson" meso); echo "ARI $a"
	$PY -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$a"'
expect 'cluster records: sizes add up per level, parents exist, micro >= 10 members' '
	$PY - "$TMP/c1.ndjson" <<PYEOF
import json, sys, base64, struct
cl = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"cluster\"")]
vids = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"video\"")]
ids = {c["id"]: c for c in cl}
assert len(ids) == len(cl)
for lvl, par in (("macro", None), ("meso", "macro"), ("micro", "meso")):
    cs = [c for c in cl if c["level"] == lvl]
    assert sum(c["size"] for c in cs) == len(vids), lvl
    for c in cs:
        assert (c["parent"] is None) == (par is None)
        if par: assert ids[c["parent"]]["level"] == par
        assert 0 <= c["radius"] <= 2 and c["radius_share"] == 0.9
        v = struct.unpack("<%df" % 48, base64.b64decode(c["centroid_b64"]))
        assert abs(sum(x * x for x in v) - 1) < 1e-4
        assert set(c["perf"]) == {"n", "median", "mean_log", "share_high"}
        assert isinstance(c["label"], list) and c["channels"] >= 1
        if lvl == "micro": assert c["size"] >= 10, c
for v in vids:
    cm = ids[v["cluster"]["micro"]]
    assert cm["parent"] == v["cluster"]["meso"] and ids[cm["parent"]]["parent"] == v["cluster"]["macro"]
PYEOF'
expect 'the metric record says the depth and the clusters per level' '
	tail -n 1 "$TMP/c1.ndjson" | jq -e ".type==\"metric\" and .levels>=2 and .clusters_micro>=60 and .mean_sim_micro > .mean_sim_meso"'

OPENBLAS_NUM_THREADS=1 pd-cluster --seed 1 --no-metric "$TMP/in.ndjson" >"$TMP/t1" 2>/dev/null
OPENBLAS_NUM_THREADS=2 pd-cluster --seed 1 --no-metric "$TMP/in.ndjson" >"$TMP/t2" 2>/dev/null
expect 'same input and seed: byte-identical with 1 and 2 BLAS threads' 'cmp "$TMP/t1" "$TMP/t2"'
expect 'the run with metric differs only by the metric record' 'cmp "$TMP/t1" <(no_metric "$TMP/c1.ndjson")'
pd-cluster --seed 2 --no-metric "$TMP/in.ndjson" >"$TMP/s2" 2>/dev/null
expect 'another seed gives another clustering run (ids may differ)' '! cmp -s "$TMP/t1" "$TMP/s2"'

# --assign
grep '^{"type":"cluster"' "$TMP/c1.ndjson" >"$TMP/clusters.ndjson"
run pd-cluster --assign "$TMP/clusters.ndjson" "$TMP/in.ndjson"
cp "$OUT" "$TMP/a.ndjson"
expect '--assign: exit 0' 'check_status 0'
expect '--assign gives every video exactly its training clusters and similarity' '
	diff <(jq -c "select(.type==\"video\") | [.id, .cluster, .cluster_sim]" "$TMP/c1.ndjson") \
	     <(jq -c "select(.type==\"video\") | [.id, .cluster, .cluster_sim]" "$TMP/a.ndjson")'
expect '--assign reports drift per micro cluster (about 10% beyond the radius here)' '
	jq -s -e "[.[]|select(.type==\"drift\")] | length > 50" "$TMP/a.ndjson" &&
	tail -n 1 "$TMP/a.ndjson" | jq -e ".drift_share > 0.03 and .drift_share < 0.2"'
PD_PLANT_NOISE=6 "$GEN" 300 48 80 3 "$TMP/noisy.ndjson"
run pd-cluster --assign "$TMP/clusters.ndjson" "$TMP/noisy.ndjson"
expect '--assign: videos far from their topics drift (share > 0.5)' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".drift_share > 0.5"'
run pd-cluster --assign "$TMP/clusters.ndjson" --no-metric "$TMP/in.ndjson"
cp "$OUT" "$TMP/a2.ndjson"
OPENBLAS_NUM_THREADS=2 pd-cluster --assign "$TMP/clusters.ndjson" --no-metric "$TMP/in.ndjson" >"$TMP/a3.ndjson" 2>/dev/null
expect '--assign is the same with 2 BLAS threads' 'cmp "$TMP/a2.ndjson" "$TMP/a3.ndjson"'
cop_start "$TMP/cp.err" pd-cluster --assign "$TMP/clusters.ndjson" --unbuffered
answers=0
for n in 1 2 3; do
	cop_send "$(sed -n "${n}p" "$TMP/in.ndjson")"
	want=$(sed -n "${n}p" "$TMP/a.ndjson" | jq -c "[.id, .cluster]")
	if cop_recv line && [ "$(jq -c "[.id, .cluster]" <<<"$line")" = "$want" ]; then
		answers=$((answers + 1))
	fi
done
cop_stop
expect '--assign --unbuffered answers each video before the next is written' '
	test "$answers" = 3 && test "$COP_STATUS" = 0 || { cat "$TMP/cp.err"; exit 1; }'

# --previous
run pd-cluster --seed 1 --previous "$TMP/clusters.ndjson" "$TMP/in.ndjson"
expect '--previous, same input and seed: every id kept, same output' '
	check_status 0 && n=$(wc -l <"$TMP/clusters.ndjson") &&
	tail -n 1 "$OUT" | jq -e ".ids_kept == $n" && cmp <(no_metric "$OUT") "$TMP/t1"'
run pd-cluster --seed 5 --previous "$TMP/clusters.ndjson" "$TMP/in.ndjson"
expect '--previous, another seed: persisting clusters keep their ids, ids stay unique' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".ids_kept > 60" &&
	[ -z "$(jq -r "select(.type==\"cluster\") | .id" "$OUT" | sort | uniq -d)" ]'

# small inputs: fewer levels, said in the metric
"$GEN" 40 16 4 1 "$TMP/small.ndjson"
run pd-cluster "$TMP/small.ndjson"
expect 'small input: clustered, fewer levels in the metric record' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".levels < 3 and .clusters_macro == 1" &&
	[ "$(jq -c "select(.type==\"video\" and .cluster.micro)" "$OUT" | wc -l)" = 40 ]'
head -n 1 "$TMP/small.ndjson" >"$TMP/one.ndjson"
run pd-cluster "$TMP/one.ndjson"
expect 'a single video: one cluster per level, depth 0' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".levels == 0 and .clusters_micro == 1"'
run pd-cluster /dev/null
expect 'empty input: exit 0, metric only' 'check_status 0 && [ "$(wc -l <"$OUT")" = 1 ]'

# bad input
{
	head -n 5 "$TMP/small.ndjson"
	echo '{"type":"video","id":"bad1",'
	echo '{"type":"video","id":"bad2","embedding":[1,2,3]}'
	echo '{"type":"video","id":"noemb","title":"no embedding here"}'
	echo '{"type":"video","id":"zero","embedding":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}'
	echo '{"type":"note","text":"kept"}'
	echo '{"type":"cluster","id":"old","level":"micro"}'
	echo '{"type":"video","id":"nan","embedding_b64":"AADAfw=="}'
	sed -n 6,12p "$TMP/small.ndjson"
} >"$TMP/bad.ndjson"
run pd-cluster --rejects "$TMP/rej" "$TMP/bad.ndjson"
expect 'bad records: exit 1, FILE:LINE messages, whole records in --rejects' '
	check_status 1 && grep -q "bad.ndjson:6: " "$ERR" && grep -q "bad.ndjson:7: .*dimension 3" "$ERR" &&
	grep -q "bad.ndjson:12: " "$ERR" && [ "$(wc -l <"$TMP/rej")" = 3 ] && grep -q "\"id\":\"bad2\"" "$TMP/rej"'
expect 'good records still clustered, others passed through in order' '
	[ "$(jq -c "select(.type==\"video\" and .cluster)" "$OUT" | wc -l)" = 12 ] &&
	jq -r "select(.type==\"video\" or .type==\"note\") | .id // .text" "$OUT" | sed -n 6,9p | tr "\n" " " | grep -q "^noemb zero kept v"'
expect 'videos without (or with a zero) embedding pass through unclustered with a warning' '
	grep -q "without an embedding" "$ERR" && tail -n 1 "$OUT" | jq -e ".unclustered == 2 and .old_clusters_dropped == 1" &&
	jq -s -e "[.[]|select(.id==\"noemb\")][0] | has(\"cluster\") | not" "$OUT"'
# input files are read twice; standard input and gzip are kept in a temporary
# file: the same output and rejects either way, also with an over-long line,
# a video that carries clusters of an earlier run and one with spaces inside
{
	cat "$TMP/bad.ndjson"
	printf '{"type":"note","text":"%04000d"}\n' 0
	sed -n 13p "$TMP/small.ndjson" | sed 's/}$/,"cluster":{"micro":"old"},"cluster_sim":0.5}/'
	sed -n 14p "$TMP/small.ndjson" | sed 's/}$/ \t }/'
	sed -n 15,20p "$TMP/small.ndjson"
} >"$TMP/mixed.ndjson"
gzip -c "$TMP/mixed.ndjson" >"$TMP/mixed.ndjson.gz"
head -n 9 "$TMP/mixed.ndjson" >"$TMP/mixed1"; tail -n +10 "$TMP/mixed.ndjson" >"$TMP/mixed2"
pd-cluster --max-line 3000 --rejects "$TMP/rej.f" "$TMP/mixed.ndjson" >"$TMP/m.file" 2>"$TMP/m.err"
pd-cluster --max-line 3000 --rejects "$TMP/rej.s" <"$TMP/mixed.ndjson" >"$TMP/m.stdin" 2>/dev/null
pd-cluster --max-line 3000 --rejects "$TMP/rej.z" "$TMP/mixed.ndjson.gz" >"$TMP/m.gz" 2>/dev/null
pd-cluster --max-line 3000 --rejects "$TMP/rej.2" "$TMP/mixed1" "$TMP/mixed2" >"$TMP/m.two" 2>/dev/null
expect 'a file read twice, stdin, gzip and two files: the same records and rejects' '
	cmp <(no_metric "$TMP/m.file") <(no_metric "$TMP/m.stdin") &&
	cmp <(no_metric "$TMP/m.file") <(no_metric "$TMP/m.gz") &&
	cmp <(no_metric "$TMP/m.file") <(no_metric "$TMP/m.two") &&
	cmp "$TMP/rej.f" "$TMP/rej.s" && cmp "$TMP/rej.f" "$TMP/rej.z" && cmp "$TMP/rej.f" "$TMP/rej.2" &&
	[ "$(wc -l <"$TMP/rej.f")" = 4 ] && grep -q "longer than 3000" "$TMP/m.err"'
expect 'old clusters replaced (one "cluster" key), spaces before the brace kept valid' '
	jq -e . "$TMP/m.file" >/dev/null &&
	[ "$(grep -o "\"cluster\":" "$TMP/m.file" | wc -l)" = "$(grep -o "\"cluster_sim\":" "$TMP/m.file" | wc -l)" ] &&
	! grep -q "\"old\"" "$TMP/m.file" && [ "$(jq -s "[.[]|select(.cluster_sim)]|length" "$TMP/m.file")" = 20 ]'
run pd-cluster --strict "$TMP/bad.ndjson"
expect '--strict stops at the first bad record' 'check_status 1 && grep -q ":6: " "$ERR" && ! grep -q ":7: " "$ERR"'

# usage and cluster-file errors
run pd-cluster --micro 10 "$TMP/small.ndjson"
expect 'a bad --micro band is a usage error' 'check_status 2 && grep -q "MIN-MAX" "$ERR"'
run pd-cluster --assign "$TMP/clusters.ndjson" --previous "$TMP/clusters.ndjson"
expect '--assign with --previous is a usage error' 'check_status 2'
run pd-cluster --assign "$TMP/nonexistent" "$TMP/small.ndjson"
expect '--assign with a missing file: exit 2' 'check_status 2'
grep -v '"level":"meso"' "$TMP/clusters.ndjson" >"$TMP/broken.ndjson"
run pd-cluster --assign "$TMP/broken.ndjson" "$TMP/in.ndjson"
expect '--assign with a broken hierarchy (no meso level): exit 2 naming the fault' 'check_status 2 && grep -q "parent" "$ERR"'
run pd-cluster --assign "$TMP/clusters.ndjson" "$TMP/small.ndjson"
expect '--assign: videos of another dimension are rejected' 'check_status 1 && grep -q "dimension 16, expected 48" "$ERR"'

test_done
