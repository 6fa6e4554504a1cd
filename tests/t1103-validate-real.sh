#!/usr/bin/env bash
# pd-validate on the real shared data with a temporal holdout: pd-fetch ->
# pd-embed --dims 64 (for time) -> pd-cluster -> pd-mine --holdout 2026-06-01 (the newest ~30%
# held out) -> pd-validate.  Prints how many patterns pass and what share of
# the testable ones replicate on the newer videos (goal >= 90%).
. "$(dirname "$0")/lib/tap.sh"
DATA=$PD_DATA/youtube-trending-dev.csv.gz
[ -f "$DATA" ] || { skip "real data" "no $DATA"; test_done; }
for c in pd-embed pd-cluster pd-mine; do
	command -v $c >/dev/null || { skip "real data pipeline" "no $c"; test_done; }
done
pd-fetch --quiet --now 2026-09-01T00:00:00Z "$DATA" | pd-embed --quiet --dims 64 | pd-cluster --quiet |
	pd-mine --quiet --holdout 2026-06-01T00:00:00Z >"$TMP/mined" 2>"$TMP/pipe.err"
expect "the pipeline up to pd-mine runs" '[ -s "$TMP/mined" ] && grep -q "\"type\":\"mine_summary\"" "$TMP/mined"'
run pd-validate --keep-rejected "$TMP/mined"
cp "$OUT" "$TMP/val"
M=$(tail -n 1 "$TMP/val")
cand=$(jq -r .patterns <<<"$M"); val=$(jq -r .validated <<<"$M")
tested=$(jq -r .holdout_tested <<<"$M"); rep=$(jq -r .replicated <<<"$M"); share=$(jq -r .replication_share <<<"$M")
untested=$(jq -r 'select(.type=="pattern" and .status=="validated" and .validation.holdout.replicated == null) | .id' "$TMP/val" | wc -l)
echo "# real data: $cand candidates over $(jq -r .tests <<<"$M") tests, $val validated ($untested of them without a replication test);"
echo "# of the $tested findings (redundant patterns counted once) that pass FDR and the channel checks and could be tested on the newer videos, $rep replicate: $share (goal 0.9)"
expect "exit 0, every video passed through" '
	check_status 0 && [ "$(grep -c "^{\"type\":\"video\"" "$TMP/val")" = 43860 ]'
expect "BH over the test count of pd-mine for every pattern" '
	t=$(jq -r "select(.type==\"mine_summary\") | .tests" "$TMP/mined") &&
	[ "$(jq -r "select(.type==\"pattern\") | .validation.fdr.m" "$TMP/val" | sort -u)" = "$t" ]'
expect "some patterns pass, each with q <= 0.05, no reason, a stable channel mix" '
	[ "$val" -ge 5 ] && [ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\" and (.q > 0.05 or (.validation.reasons|length) > 0 or
		.validation.holdout.replicated == false or (.validation.channel_stability.share // 0) > 0.5)) | .id" "$TMP/val" | wc -l)" = 0 ]'
expect "most testable patterns replicate on the newer videos (>= 60%)" '
	[ "$tested" -ge 5 ] && awk -v s="$share" "BEGIN { exit !(s >= 0.6) }"'
test_done
