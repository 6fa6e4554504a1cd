#!/bin/bash
# pd-mine and bad input: every bad record is reported with FILE:LINE, written
# whole to --rejects, counted; the good records still come out and are mined;
# exit 1.  --strict stops at the first.
. "$(dirname "$0")/lib/tap.sh"

python3 "$PD_TOP/examples/mine-synth.py" --videos 600 --seed 3 >"$TMP/good" || exit 1
ngood=$(wc -l <"$TMP/good")

# bad_case NAME RECORD MESSAGE-REGEX: the record inserted as line 3 of good input
bad_case() {
	local name=$1 rec=$2 msg=$3
	{ head -n 2 "$TMP/good"; printf '%s\n' "$rec"; tail -n +3 "$TMP/good"; } >"$TMP/case.ndjson"
	run pd-mine --no-metric --holdout 0 --rejects "$TMP/rej" "$TMP/case.ndjson"
	expect "$name: reported at case.ndjson:3, exit 1" '
		check_status 1 && grep -q "^pd-mine: .*case.ndjson:3: .*$msg" "$ERR"'
	expect "$name: written whole to --rejects" '
		[ "$(wc -l <"$TMP/rej")" = 1 ] && printf "%s\n" "$rec" | cmp - "$TMP/rej"'
	expect "$name: the good records still come out, then patterns" '
		head -n "$ngood" "$OUT" | cmp - "$TMP/good" &&
		grep -q "\"type\":\"pattern\"" "$OUT" &&
		tail -n 1 "$OUT" | jq -e ".type == \"mine_summary\" and .videos == 600" >/dev/null'
}

bad_case "malformed JSON" '{"type":"video","id":"b1",' "malformed\|unterminated\|expected\|JSON"
bad_case "video without id" '{"type":"video","title":"no id","perf":1}' "id"
bad_case "non-numeric perf" '{"type":"video","id":"b2","perf":"high"}' "perf"
bad_case "cluster is not an object" '{"type":"video","id":"b3","perf":1,"cluster":"T0"}' "cluster"
bad_case "cluster id is a number" '{"type":"video","id":"b4","perf":1,"cluster":{"macro":3}}' "cluster"
bad_case "bad published_at" '{"type":"video","id":"b5","perf":1,"published_at":"yesterday"}' "published_at"
bad_case "cluster record without level" '{"type":"cluster","id":"X","size":3}' "level"
bad_case "cluster record without id" '{"type":"cluster","level":"macro"}' "id"
bad_case "invalid UTF-8" "$(printf '{"type":"video","id":"b6","title":"caf\xe9","perf":1}')" "UTF-8"

# embeddings: one dimension per stream
{
	printf '%s\n' '{"type":"video","id":"e1","perf":1,"embedding":[0.1,0.2,0.3]}' \
		'{"type":"video","id":"e2","perf":1,"embedding":[0.1,0.2]}' \
		'{"type":"video","id":"e3","perf":1,"embedding_b64":"AACAPwAAAAAAAAAA"}'
} >"$TMP/emb.ndjson"
run pd-mine --no-metric --rejects "$TMP/rej" "$TMP/emb.ndjson"
expect "an embedding of another dimension is rejected; both forms are read" '
	check_status 1 && grep -q "emb.ndjson:2: .*dimension" "$ERR" &&
	grep -q "\"id\":\"e2\"" "$TMP/rej" &&
	head -n 1 "$OUT" | grep -q "\"id\":\"e1\"" && sed -n 2p "$OUT" | grep -q "\"id\":\"e3\""'

{ head -n 2 "$TMP/good"; printf '%s\n' '{"type":"video"' '{"type":"video","id":3}'; tail -n +3 "$TMP/good"; } >"$TMP/two"
run pd-mine --no-metric --strict "$TMP/two"
expect "--strict stops at the first bad record, exit 1" '
	check_status 1 && [ "$(grep -c "two:" "$ERR")" = 1 ] && grep -q "two:3:" "$ERR"'
run pd-mine --rejects "$TMP/rej" "$TMP/two"
expect "the metric record counts the rejected records" '
	check_status 1 && tail -n 1 "$OUT" | jq -e ".type == \"metric\" and .rejected == 2" >/dev/null'

printf '%s\n' '{"type":"video","id":"a","perf":1}' >"$TMP/one"
run pd-mine "$TMP/one" "$TMP/missing"
expect "an unreadable file is reported" '[ "$status" -ne 0 ] && grep -q "missing" "$ERR"'

run pd-mine --holdout 0.5 "$TMP/two" --rejects "$TMP/rej"
expect "with --holdout FRACTION (spooled) the rejects and order are the same" '
	check_status 1 && [ "$(wc -l <"$TMP/rej")" = 2 ] &&
	no_metric "$OUT" | jq -c "select(.type==\"video\") | del(.holdout)" >"$TMP/a" &&
	jq -c "select(.type==\"video\")" "$TMP/good" >"$TMP/b" && cmp "$TMP/a" "$TMP/b"'

expect "writing to a full disk is an error" '
	run pd-mine "$TMP/good" >/dev/full; pd-mine "$TMP/good" >/dev/full 2>"$TMP/e"; [ $? -ne 0 ] && [ -s "$TMP/e" ]'

# a run that mines nothing says why (a warning; the records still pass)
printf '%s\n' '{"type":"video","id":"n1","perf":1}' >"$TMP/nocl.ndjson"
run pd-mine --no-metric "$TMP/nocl.ndjson"
expect "no cluster on any video: a warning that says to run pd-cluster, exit 0" '
	check_status 0 && grep -q "^pd-mine: no video has a \"cluster\": nothing to mine (run pd-cluster first)" "$ERR"'
printf '%s\n' '{"type":"video","id":"n1","cluster":{"macro":"m"}}' >"$TMP/noperf.ndjson"
run pd-mine --no-metric "$TMP/noperf.ndjson"
expect "no perf on any video: a warning naming perf" 'check_status 0 && grep -q "no video has a \"perf\"" "$ERR"'
run pd-mine --no-metric --quiet "$TMP/nocl.ndjson"
expect "--quiet: no warning" 'check_status 0 && [ ! -s "$ERR" ]'
test_done
