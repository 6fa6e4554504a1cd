#!/usr/bin/env bash
# pd-fetch and bad input: every bad row is reported with FILE:LINE, written
# whole to --rejects, counted; every good row still comes out; exit 1.
. "$(dirname "$0")/lib/tap.sh"
H='video_id,channel_id,title,published_at,view_count'
good() { printf '%s\r\n' "$H" 'g1,C,first,2025-01-01T00:00:00Z,10'; }

# case NAME FILE-CONTENT-COMMAND EXPECTED-LINE MESSAGE-REGEX REJECT-SUBSTRING
bad_case() {
	local name=$1 line=$2 msg=$3 rej=$4
	run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/case.csv"
	expect "$name: reported at case.csv:$line, exit 1" '
		check_status 1 && grep -q "^pd-fetch: .*case.csv:$line: .*$msg" "$ERR"'
	expect "$name: written whole to --rejects" 'grep -qF -- "$rej" "$TMP/rej"'
	expect "$name: the good rows still come out" '
		grep -q "\"id\":\"g1\"" "$OUT" && grep -q "\"id\":\"g2\"" "$OUT"'
}
{ good; printf '%s\r\n' 'b1,C,too,many,fields,here' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "wrong column count" 3 "6 fields, the header has 5" "b1,C,too,many,fields,here"
{ good; printf '%s\r\n' 'b2,C,t,2025-01-01T00:00:00Z,lots' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "non-numeric views" 3 "views is not a count" "b2,C,t,2025-01-01T00:00:00Z,lots"
{ good; printf '%s\r\n' 'b3,C,t,2025-13-45T00:00:00Z,5' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "bad date" 3 "published_at is not a date" "2025-13-45"
{ good; printf 'b4,C,caf\xe9 latin1,2025-01-01T00:00:00Z,5\r\n'; printf '%s\r\n' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "invalid UTF-8" 3 "invalid UTF-8" "latin1"
{ good; printf '%s\r\n' 'g1,C,again,2025-01-01T00:00:00Z,10' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "duplicate id" 3 "duplicate video id 'g1'" "g1,C,again"
{ good; printf '%s\r\n' ',C,no id,2025-01-01T00:00:00Z,10' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
bad_case "empty id" 3 "empty video id" ",C,no id"
{ good; printf '%s\r\n' 'g2,C,second,2025-01-02T00:00:00Z,20' 'b5,C,"never closed,2025-01-01T00:00:00Z,1'; } >"$TMP/case.csv"
bad_case "unterminated quote at the end" 4 "unterminated quoted field" '"never closed'
# a quote that does not close where it should: the row is rejected at the line
# where the quote opened, and reading resumes on the next line (man pd-fetch,
# "Quotes that do not close")
{
	echo 'video_id,channel_id,title,published_at,view_count'
	for i in $(seq 1 301); do
		if [ "$i" = 100 ]; then t='"Best" moments ever'
		elif [ $((i % 10)) = 0 ]; then t="\"title $i, quoted\""
		else t="title $i"; fi
		printf 's%d,C%d,%s,2025-01-01T00:00:00Z,%d\r\n' "$i" $((i % 7)) "$t" "$i"
	done
} >"$TMP/quote.csv"
run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/quote.csv"
expect "a stray quote in a title: reported at its line, exit 1" '
	check_status 1 && grep -q "^pd-fetch: .*quote.csv:101: unterminated quoted field in column .title." "$ERR"'
expect "a stray quote in a title: that row alone rejected, the 300 others read" '
	[ "$(wc -l <"$TMP/rej")" = 1 ] && grep -q "^s100,C2,\"Best\" moments ever," "$TMP/rej" &&
	[ "$(grep -c "\"type\":\"video\"" "$OUT")" = 300 ] && ! grep -qF "\\n" "$OUT" &&
	[ "$(jq -r "select(.id == \"s110\") | .title" "$OUT")" = "title 110, quoted" ]'
{ good; printf '%s\r\n' 'b7,C,"never closed,2025-01-01T00:00:00Z,1' 'g2,C,"two' 'lines",2025-01-02T00:00:00Z,20' 'g3,C,third,2025-01-03T00:00:00Z,30'; } >"$TMP/case.csv"
run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/case.csv"
expect "a stray quote before a row with a quoted line break: both rows right" '
	check_status 1 && grep -q "case.csv:3: unterminated quoted field in column .title." "$ERR" &&
	[ "$(cat "$TMP/rej")" = "b7,C,\"never closed,2025-01-01T00:00:00Z,1" ] &&
	[ "$(jq -r "select(.id == \"g2\") | .title" "$OUT")" = "$(printf "two\nlines")" ] &&
	[ "$(jq -r .id "$OUT" | tr "\n" " ")" = "g1 g2 g3 " ]'
{ good; printf '%s\r\n' 'g2,C,second,2025-01-02T00:00:00Z,20' 'b8,C,"open quote,2025-01-01T00:00:00Z,1' 'b9,C,too,many,fields,here'; } >"$TMP/case.csv"
run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/case.csv"
expect "a quote open at the end of the file: the lines after it are read again" '
	check_status 1 && grep -q "case.csv:4: unterminated quoted field in column .title." "$ERR" &&
	grep -q "case.csv:5: row has 6 fields, the header has 5" "$ERR" &&
	[ "$(wc -l <"$TMP/rej")" = 2 ] && [ "$(grep -c "\"type\":\"video\"" "$OUT")" = 2 ]'
long=$(head -c 3000 /dev/zero | tr '\0' x)
{ good; printf '%s\r\n' "b6,C,$long,2025-01-01T00:00:00Z,1" 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
run pd-fetch --no-metric --max-line 1000 --rejects "$TMP/rej" "$TMP/case.csv"
expect "line over --max-line: reported, rejected whole, others out" '
	check_status 1 && grep -q "case.csv:3: line longer than 1000 bytes" "$ERR" &&
	grep -qF "b6,C,$long" "$TMP/rej" && grep -q "\"id\":\"g2\"" "$OUT"'

{ good; printf '%s\r\n' 'b1,C,too,many,fields,here' 'b2,C,t,2025-01-01T00:00:00Z,lots' 'g2,C,second,2025-01-02T00:00:00Z,20'; } >"$TMP/case.csv"
run pd-fetch --no-metric --strict "$TMP/case.csv"
expect "--strict stops at the first bad row, exit 1" '
	check_status 1 && [ "$(grep -c "case.csv" "$ERR")" = 1 ]'
run pd-fetch --rejects "$TMP/rej" "$TMP/case.csv"
expect "the metric record counts the rejected rows" '
	check_status 1 && tail -n 1 "$OUT" | jq -e ".rejected == 2 and .videos == 2" >/dev/null'

# NDJSON bad records
printf '%s\n' '{"type":"video","id":"ok1","views":1}' \
	'{"type":"video","id":"x1",' \
	'{"type":"video","views":3}' \
	'{"type":"video","id":42}' \
	'{"type":"video","id":"x4","embedding":[1,NaN]}' \
	'{"type":"video","id":"x5","views":"many"}' \
	'{"type":"video","id":"ok2","embedding":[0.5,0.25]}' \
	'{"type":"video","id":"x6","embedding":[0.5,0.25,1]}' \
	'["not","an","object"]' \
	'{"no_type":true}' >"$TMP/bad.ndjson"
printf '{"type":"video","id":"x7","title":"bad \xff byte"}\n' >>"$TMP/bad.ndjson"
run pd-fetch --no-metric --rejects "$TMP/rej" "$TMP/bad.ndjson"
expect "NDJSON: each bad record reported with its line" '
	check_status 1 && for l in 2 3 4 5 6 8 9 10 11; do grep -q "bad.ndjson:$l: " "$ERR" || { echo "line $l not reported"; exit 1; }; done'
expect "NDJSON: messages say what is wrong" '
	grep -q "bad.ndjson:2: malformed" "$ERR" && grep -q "bad.ndjson:3: video has no .id." "$ERR" &&
	grep -q "bad.ndjson:4: .*not a non-empty string" "$ERR" && grep -q "bad.ndjson:5: .*not a number" "$ERR" &&
	grep -q "bad.ndjson:8: embedding has 3 dimensions, the stream 2" "$ERR" &&
	grep -q "bad.ndjson:11: invalid UTF-8" "$ERR"'
expect "NDJSON: 9 rejects written whole, the 2 good records out" '
	[ "$(wc -l <"$TMP/rej")" = 9 ] && grep -qF "{\"type\":\"video\",\"id\":\"x1\"," "$TMP/rej" &&
	[ "$(grep -c "\"type\":\"video\"" "$OUT")" = 2 ] && grep -q "\"id\":\"ok2\".*\"embedding\":\[0.5,0.25\]" "$OUT"'
test_done
