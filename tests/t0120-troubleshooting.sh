#!/usr/bin/env bash
# README.md's Troubleshooting: each message it quotes is what the command
# prints in that situation, and the README quotes it as printed.
. "$(dirname "$0")/lib/tap.sh"
README=$PD_TOP/README.md

# in_readme TEXT: the README holds TEXT, its line breaks and indentation
# taken as single spaces (the README wraps long messages)
in_readme() {
	tr '\n' ' ' <"$README" | sed 's/  */ /g' | grep -qF -- "$(printf '%s' "$1" | sed 's/  */ /g')"
}

printf '%s\n' '{"type":"video","id":"a","title":"cooking pasta","perf":2}' \
	'{"type":"video","id":"b","title":"pasta at home","perf":1}' >"$TMP/noemb.ndjson"
run pd-cluster --no-metric "$TMP/noemb.ndjson"
msg='pd-cluster: no embeddings found: 2 videos, none with an embedding; nothing was clustered (run pd-embed before pd-cluster)'
expect "no embeddings: pd-cluster says so, passes the videos through" '
	check_status 0 && grep -qxF "$msg" "$ERR" && [ "$(grep -c "\"type\":\"video\"" "$OUT")" = 2 ]'
expect "... as README.md quotes it" 'in_readme "$msg"'
expect "... after one warning at the first video, as README.md quotes it" '
	grep -qxF "pd-cluster: $TMP/noemb.ndjson:1: video without an embedding (or with a zero one) passes through unclustered" "$ERR" &&
	in_readme "video without an embedding (or with a zero one) passes through unclustered"'
run pd-cluster --no-metric --assign "$PD_TOP/examples/match-clusters.ndjson" "$TMP/noemb.ndjson"
expect "no embeddings with --assign: the message names pd-embed --model" '
	check_status 0 && grep -qF "pd-cluster: no embeddings found: 2 videos, none with an embedding; nothing was placed (run pd-embed --model FILE before pd-cluster --assign)" "$ERR" &&
	in_readme "(run pd-embed --model FILE before pd-cluster --assign)"'
run pd-mine --no-metric "$TMP/noemb.ndjson"
msg='pd-mine: no video has a "cluster": nothing to mine (run pd-cluster first)'
expect "no clusters: pd-mine says so, as README.md quotes it" '
	check_status 0 && grep -qxF "$msg" "$ERR" && in_readme "$msg"'
# a cluster too small to mine
{ for i in $(seq 1 12); do
	printf '{"type":"video","id":"v%d","channel_id":"C%d","title":"t %d","perf":%d,"cluster":{"macro":"m1","meso":"m1.1","micro":"m1.1.1"}}\n' \
		"$i" $((i % 4)) "$i" $((i % 3 + 1))
  done; } >"$TMP/small.ndjson"
run pd-mine --no-metric --holdout 0 "$TMP/small.ndjson"
msg='no cluster has 30 videos with a perf outside the holdout, with high and other performers: nothing mined (--min-cluster-size)'
expect "nothing mined: pd-mine says why, as README.md quotes it" '
	check_status 0 && grep -qxF "pd-mine: $msg" "$ERR" && in_readme "$msg"'

printf 'video_id,Video Title,view_count\nx1,Hello,5\n' >"$TMP/export.csv"
(cd "$TMP" && pd-fetch --no-metric export.csv) >"$OUT" 2>"$ERR"; status=$?
msg="pd-fetch: export.csv:1: the header has no title column (accepted: title); its columns: 'video_id', 'Video Title', 'view_count'; --map title=COLUMN names another"
expect "a title column pd-fetch does not know: exit 2, nothing out, the message README.md quotes" '
	check_status 2 && [ ! -s "$OUT" ] && grep -qxF "$msg" "$ERR" && in_readme "$msg"'
run pd-fetch --no-metric --map "title=Video Title" "$TMP/export.csv"
expect "... and the --map README.md gives reads it, with the perf warning it quotes" '
	check_status 0 && [ "$(jq -r .title "$OUT")" = Hello ] &&
	in_readme "--map \"title=Video Title\"" &&
	grep -qF "pd-fetch: $TMP/export.csv:1: every perf will be null: the header has no channel_id column" "$ERR" &&
	in_readme "every perf will be null: the header has no views column (accepted: view_count, views, viewcount)"'
printf 'video_id,title,channel_id,published_at\nx1,Hello,C,2025-01-01T00:00:00Z\n' >"$TMP/noviews.csv"
run pd-fetch --no-metric "$TMP/noviews.csv"
expect "... the views warning as README.md quotes it" '
	check_status 0 &&
	grep -qF "pd-fetch: $TMP/noviews.csv:1: every perf will be null: the header has no views column (accepted: view_count, views, viewcount); its columns:" "$ERR"'
printf 'video_id,title,channel_id,published_at,view_count\nx1,Hello,C,2025-01-01T00:00:00Z,10\n' >"$TMP/one.csv"
run pd-fetch --no-metric "$TMP/one.csv"
expect "a channel with one video: the perf_reason README.md quotes" '
	check_status 0 && [ ! -s "$ERR" ] && [ "$(jq -r .perf_reason "$OUT")" = "channel has 1 usable video (need 5)" ] &&
	in_readme "channel has 1 usable video (need 5)"'
test_done
