#!/bin/bash
# pd-mine on the real data (43,860 trending videos, every script and emoji):
# clusters by category (macro) and a hash of the id (meso, micro) so the run
# does not depend on the embedding stages.  It must read every record, keep
# them in order, and report sane patterns whose predicates hold for their
# example videos.
. "$(dirname "$0")/lib/tap.sh"

csv=$PD_DATA/youtube-trending-dev.csv.gz
if [ ! -r "$csv" ]; then
	skip "real data" "no $csv"
	test_done
fi
pd-fetch --no-metric --quiet "$csv" >"$TMP/videos" || exit 1
python3 - "$TMP/videos" >"$TMP/in" <<'EOF'
import json, sys, zlib
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "video":
        h = zlib.crc32(r["id"].encode())
        c = (r.get("category") or "none").replace(" ", "_")
        r["cluster"] = {"macro": c, "meso": "%s.%d" % (c, h % 4), "micro": "%s.%d.%d" % (c, h % 4, (h >> 8) % 8)}
    print(json.dumps(r, separators=(",", ":"), ensure_ascii=False))
EOF
n=$(wc -l <"$TMP/in")

run pd-mine --negative --holdout 0.2 "$TMP/in"
cp "$OUT" "$TMP/out"
expect 'mines the real data: exit 0, nothing rejected' '
	check_status 0 && [ ! -s "$ERR" ] && tail -n 1 "$TMP/out" | jq -e ".type == \"metric\" and .rejected == 0" >/dev/null'
expect 'every record comes out in order, a fifth marked holdout' '
	head -n "$n" "$TMP/out" | jq -c "del(.holdout)" >"$TMP/a" && jq -c . "$TMP/in" >"$TMP/b" && cmp "$TMP/a" "$TMP/b" &&
	h=$(grep -c "\"holdout\":true" "$TMP/out") && [ "$h" -ge 8000 ] && [ "$h" -le 9600 ]'
expect 'patterns of many kinds, both directions, at every level' '
	jq -r "select(.type==\"pattern\") | .pattern_type" "$TMP/out" | sort -u >"$TMP/kinds" &&
	[ "$(wc -l <"$TMP/kinds")" -ge 6 ] &&
	jq -r "select(.type==\"pattern\") | .direction" "$TMP/out" | sort -u | tr "\n" " " | grep -qx "negative positive " &&
	jq -r "select(.type==\"pattern\") | .level" "$TMP/out" | sort -u | tr "\n" " " | grep -qx "macro meso micro "'
expect 'stats are sane: intervals around the effect and the lift, p_rank in (0,0.05], one direction, counts consistent' '
	jq -s -e "[.[] | select(.type==\"pattern\") | (if .direction == \"positive\" then 1 else -1 end) as \$d | .stats |
		.lift_ci[0] <= .lift and .lift <= .lift_ci[1] and .p_rank > 0 and .p_rank <= 0.05 and
		.effect_ci[0] <= .effect and .effect <= .effect_ci[1] and
		(\$d * (.effect - 1)) > 0 and (\$d * (.median_perf_with - .median_perf_without)) > 0 and
		.n_with < .n and .high_with <= .n_with and .channels >= 3] | length > 50 and all" "$TMP/out" >/dev/null'
expect 'ASCII n-gram patterns: the example titles contain the n-gram' '
	jq -r "select(.type==\"pattern\" and .feature.kind==\"ngram\" and .direction==\"positive\") | .feature.value as \$v |
		.pattern_data.examples[] | [\$v, .] | @tsv" "$TMP/out" >"$TMP/ng" && [ -s "$TMP/ng" ] &&
	python3 -c "
import re, sys
n = 0
for l in open(sys.argv[1], encoding=\"utf-8\"):
    v, t = l.rstrip(\"\n\").split(\"\t\")
    if not (v + t).isascii():
        continue
    w = \" \" + \" \".join(re.sub(r\"[^a-z0-9 ]\", \" \", t.lower().replace(\"\x27\", \"\")).split()) + \" \"
    assert \" \" + v + \" \" in w, (v, t)
    n += 1
assert n > 10, n
" "$TMP/ng"'

test_done
