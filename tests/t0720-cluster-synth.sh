#!/usr/bin/env bash
# pd-synth | pd-embed | pd-cluster: the planted topics (macro, meso, micro,
# each with its own vocabulary) are recovered from the videos' text alone,
# through the local model and the hierarchy (adjusted Rand index >= 0.9).
. "$(dirname "$0")/lib/tap.sh"
PY=/usr/bin/python3
ARI="$PD_TOP/tests/lib/ari.py"
if [ ! -x "$PD_TOP/bin/pd-synth" ]; then
	skip 'planted topics' 'no pd-synth'
	test_done
fi
pd-synth --videos 5000 --seed 1 --format ndjson --truth "$TMP/truth.ndjson" >"$TMP/v.ndjson" 2>/dev/null
run pd-embed "$TMP/v.ndjson"
cp "$OUT" "$TMP/e.ndjson"
expect 'pd-embed embeds the synthetic videos' 'check_status 0'
run pd-cluster --seed 1 "$TMP/e.ndjson"
cp "$OUT" "$TMP/c.ndjson"
expect 'pd-cluster clusters them into three levels' 'check_status 0 && tail -n 1 "$OUT" | jq -e ".levels == 3"'
for level in micro meso macro; do
	expect "$level clusters recover the planted $level topics (ARI >= 0.9)" '
		a=$($PY "$ARI" "$TMP/truth.ndjson" "$TMP/c.ndjson" '$level'); echo "ARI $a"
		$PY -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$a"'
done
test_done
