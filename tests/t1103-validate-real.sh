#!/usr/bin/env bash
# pd-validate on the real shared data with a temporal holdout: pd-fetch ->
# pd-embed --dims 64 (for time) -> pd-cluster -> pd-mine --holdout 2026-06-01 (the newest ~30%
# held out) -> pd-validate.  Prints how many patterns pass and what share of
# the testable ones replicate on the newer videos.  Validated means replicated:
# every validated pattern passed the rank test on the newer videos; what holds
# later still is measured by `make eval` (QUALITY.md), not here.
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
echo "# real data: $cand candidates over $(jq -r .tests <<<"$M") tests, $val validated, $(jq -r .provisional <<<"$M") provisional;"
echo "# of the $tested findings (redundant patterns counted once) that pass FDR and the channel checks and could be tested on the newer videos, $rep replicate: $share"
expect "exit 0, every video passed through" '
	check_status 0 && [ "$(grep -c "^{\"type\":\"video\"" "$TMP/val")" = 43860 ]'
expect "BH over the test count of pd-mine for every pattern" '
	t=$(jq -r "select(.type==\"mine_summary\") | .tests" "$TMP/mined") &&
	[ "$(jq -r "select(.type==\"pattern\") | .validation.fdr.m" "$TMP/val" | sort -u)" = "$t" ]'
expect "some patterns pass; each validated one: q <= 0.25, no reason, replicated at p <= 0.05, a stable channel mix" '
	[ "$val" -ge 1 ] && [ "$(jq -r "select(.type==\"pattern\" and .status==\"validated\" and (.q > 0.25 or (.validation.reasons|length) > 0 or
		.validation.holdout.replicated != true or .validation.holdout.rank.p_rank > 0.05 or
		(.validation.channel_stability.share // 0) > 0.5)) | .id" "$TMP/val" | wc -l)" = 0 ]'
expect "provisional patterns: clean but untested on the newer videos" '
	[ "$(jq -r "select(.type==\"pattern\" and .status==\"provisional\") | .id" "$TMP/val" | wc -l)" -ge 5 ] &&
	[ "$(jq -r "select(.type==\"pattern\" and .status==\"provisional\" and ((.validation.reasons|length) > 0 or
		.validation.holdout.replicated != null)) | .id" "$TMP/val" | wc -l)" = 0 ]'
expect "one effect, stated one way: effect, its interval, medians and the rank test agree" '
	[ "$(jq -r "select(.type==\"pattern\") | (if .direction == \"positive\" then 1 else -1 end) as \$d |
		select(.stats.effect_ci[0] > .stats.effect or .stats.effect_ci[1] < .stats.effect or
			\$d * (.stats.effect - 1) <= 0 or \$d * (.stats.median_perf_with - .stats.median_perf_without) <= 0 or
			.performance_stats.lift_ratio != .stats.effect) | .id" "$TMP/val" | wc -l)" = 0 ]'
expect "plain-English descriptions name the niche, the effect and the newer-video test" '
	[ "$(jq -r "select(.type==\"pattern\" and .status!=\"rejected\") |
		select((.description | test(\"^In (the niche|this niche)\") and test(\"x the views|fewer views\") and
			test(\"newer videos\")) | not) | .id" "$TMP/val" | wc -l)" = 0 ]'
test_done
