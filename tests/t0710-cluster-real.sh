#!/usr/bin/env bash
# pd-embed + pd-cluster on the real shared data (youtube-trending-dev):
# clusters are tighter level by level, and categories are more concentrated
# in the micro clusters than in a random assignment of the same sizes.
. "$(dirname "$0")/lib/tap.sh"
PY=/usr/bin/python3
DATA=$PD_DATA/youtube-trending-dev.csv.gz
if [ ! -r "$DATA" ] || [ ! -x "$PD_TOP/bin/pd-fetch" ]; then
	skip 'real data' "no $DATA or pd-fetch"
	test_done
fi
pd-fetch "$DATA" >"$TMP/v.ndjson" 2>/dev/null
run pd-embed --save-model "$TMP/m.pdtm" "$TMP/v.ndjson"
cp "$OUT" "$TMP/e.ndjson"
expect 'pd-embed trains on the real data, exit 0' 'check_status 0 && tail -n 1 "$OUT" | jq -e ".embedded > 40000 and .rank == 256"'
head -n 2000 "$TMP/v.ndjson" >"$TMP/v2k.ndjson"
run pd-embed --model "$TMP/m.pdtm" "$TMP/v2k.ndjson"
expect 'the saved model re-embeds real videos exactly' 'check_status 0 && cmp <(no_metric "$OUT") <(head -n 2000 "$TMP/e.ndjson")'
run pd-cluster --seed 1 "$TMP/e.ndjson"
cp "$OUT" "$TMP/c.ndjson"
expect 'pd-cluster clusters the real data into three levels' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".levels == 3 and .clusters_macro >= 5 and .clusters_micro > 300"'
expect 'mean cosine to centroid grows from macro to meso to micro' '
	tail -n 1 "$TMP/c.ndjson" | jq -c "{mean_sim_macro, mean_sim_meso, mean_sim_micro}" &&
	tail -n 1 "$TMP/c.ndjson" | jq -e ".mean_sim_macro < .mean_sim_meso and .mean_sim_meso < .mean_sim_micro and .mean_sim_micro > 0.7"'
expect 'categories are concentrated in clusters, well beyond random clusters of the same sizes' '
	$PY - "$TMP/c.ndjson" <<PYEOF
import json, sys, random
from collections import Counter, defaultdict
vids = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"video\"")]
vids = [v for v in vids if "cluster" in v and v.get("category")]
random.seed(1)
for lvl in ("macro", "meso", "micro"):
    groups = defaultdict(list)
    for v in vids:
        groups[v["cluster"][lvl]].append(v["category"])
    def purity(gs):
        return sum(Counter(g).most_common(1)[0][1] for g in gs) / len(vids)
    cats = [v["category"] for v in vids]
    random.shuffle(cats)
    rnd, at = [], 0
    for g in groups.values():
        rnd.append(cats[at:at + len(g)]); at += len(g)
    p, r = purity(groups.values()), purity(rnd)
    print("%s: category purity %.3f, random %.3f" % (lvl, p, r))
    assert p > r + 0.1, lvl
PYEOF'
test_done
