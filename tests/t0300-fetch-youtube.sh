#!/usr/bin/env bash
# The YouTube Data API source (lib/youtube.c over lib/http.c) against a
# loopback fake of the API (tests/fake_youtube.py): pagination and 50-id
# batches, the record shape, durations with days, hidden counts, channel
# handles, unknown channels, retries on 500/503/429 (Retry-After honoured),
# quota exhaustion, an invalid or missing key, a hung server, and through
# pd-fetch --youtube-channel once pd-fetch has it.
. "$(dirname "$0")/lib/tap.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
export YOUTUBE_API_KEY=test-key
# short waits so faults resolve fast; the policy itself is lib/http.h's
export PD_HTTP_BACKOFF_MS=50 PD_HTTP_MAX_BACKOFF_MS=5000

# ---- the fake server: a fresh one per case (faults fire once per server) ----
. "$(dirname "$0")/lib/fake.sh"
LOG=$TMP/requests.log
start_fake() {	# fake_youtube.py flags...
	: >"$LOG"
	fake_start "$PD_TOP/tests/fake_youtube.py" --log "$LOG" --max-seconds 120 "$@"
	PORT=$FAKE_PORT
	export PD_YOUTUBE_URL="$FAKE_URL/youtube/v3"
}
# calls LOG [PATH]: how many requests (to PATH)
# video_is ID JQ-EXPR: the record ID of $OUT satisfies the expression
video_is() { [ "$(jq -r --arg id "$1" "select(.id == \$id) | ($2)" "$OUT")" = true ]; }
calls() { jq -r --arg p "${1:-}" 'select($p == "" or (.path | endswith($p))) | .n' "$LOG" | wc -l; }

# ---- the module through its own interface (tests/drivers/yt_drive.c) ----
DRIVE=$PD_TOP/build/drivers/yt_drive
if [ -x "$DRIVE" ]; then
	ok "test driver built by make unit (build/drivers/yt_drive)"
else
	not_ok "test driver built by make unit (build/drivers/yt_drive): missing, run make unit"
fi

start_fake
run "$DRIVE" UCmany
expect "a channel of 120 uploads: every video, newest first, exit 0" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 120 ] &&
	[ "$(jq -r .id "$OUT" | head -n 1)" = many-0000 ] && [ "$(jq -r .id "$OUT" | tail -n 1)" = many-0119 ] &&
	[ -z "$(jq -r .id "$OUT" | sort | uniq -d)" ]'
expect "pagination: 3 playlistItems pages (pageToken), 50 a page" '
	[ "$(calls /playlistItems)" = 3 ] &&
	[ "$(jq -r "select(.path|endswith(\"/playlistItems\")) | .query.pageToken[0] // \"-\"" "$LOG" | tr "\n" " ")" = "- tok-50 tok-100 " ] &&
	[ -z "$(jq -r "select(.path|endswith(\"/playlistItems\")) | .query.maxResults[0]" "$LOG" | grep -vx 50)" ]'
expect "videos.list: at most 50 ids a call (50, 50, 20), parts snippet,statistics,contentDetails" '
	[ "$(jq -r "select(.path|endswith(\"/videos\")) | .query.id[0] | split(\",\") | length" "$LOG" | sort -n | tr "\n" " ")" = "20 50 50 " ] &&
	[ -z "$(jq -r "select(.path|endswith(\"/videos\")) | .query.part[0]" "$LOG" | grep -vx "snippet,statistics,contentDetails")" ]'
expect "quota units counted: 1 channels + 3 playlistItems + 3 videos = 7" '
	grep -q "^stats quota=7 attempts=7 ok=1 failed=0 videos=120 missing=0$" "$ERR"'
expect "the key is sent as key= on every call" '
	[ -z "$(jq -r ".query.key[0]" "$LOG" | grep -vx test-key)" ]'
expect "record shape: strings, tag arrays, numeric counts, RFC 3339 times" '
	jq -e "select(.type != \"video\" or (.id|type) != \"string\" or .channel_id != \"UCmany\" or
		.channel_title != \"Channel many\" or (.title|type) != \"string\" or (.description|type) != \"string\"
		or (.tags|type) != \"array\" or (.views|type) != \"number\" or (.likes|type) != \"number\"
		or (.comments|type) != \"number\" or (.duration_s|type) != \"number\"
		or (.published_at|test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$\")|not)
		or .observed_at != \"2024-06-02T00:00:00Z\")" "$OUT" >"$TMP/bad"; [ ! -s "$TMP/bad" ]'
expect "values: counts parsed from strings, durations, categories mapped to names" '
	video_is many-0005 ".views == 6000 and .likes == 60 and .comments == 6 and
		.duration_s == 5*60+36 and .category == \"Gaming\" and .category_id == \"20\" and
		.published_at == \"2024-05-27T12:00:00Z\" and .is_short == false" &&
	[ "$(jq -r "select(.id == \"many-0001\") | .category" "$OUT")" = Education ] &&
	[ "$(jq -r "select(.id == \"many-0004\") | .category" "$OUT")" = "Science & Technology" ]'
expect "short videos flagged (duration <= 60 s)" '
	[ "$(jq -r "select(.id == \"many-0000\") | [.duration_s, .is_short] | @tsv" "$OUT")" = "$(printf "1\ttrue")" ]'

run "$DRIVE" UCspecial
expect "ISO 8601 duration with days: P1DT2H3M4S = 93784 s" '
	check_status 0 && [ "$(jq -r "select(.id == \"special-0002\") | .duration_s" "$OUT")" = 93784 ]'
expect "a live broadcast (P0D): duration_s and is_short null, live in extra" '
	video_is special-0003 ".duration_s == null and .is_short == null and
		.extra.live_broadcast_content == \"live\""'
expect "hidden like count => likes null (not 0); comments kept" '
	video_is special-0000 ".likes == null and .comments == 1"'
expect "comments disabled => comments null; no tags => []; unknown category kept as its id" '
	video_is special-0001 ".comments == null and .likes == 20 and .tags == [] and
		.category == \"99\""'

run "$DRIVE" -m 30 UCmany
expect "--max-videos 30: 30 videos, one page, one videos.list call" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 30 ] && grep -q "^stats quota=3 " "$ERR"'
: >"$LOG"
run "$DRIVE" -s 2024-05-01T00:00:00Z UCmany
expect "since 2024-05-01: the 32 newer videos, listing stops at the first older page" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 32 ] && [ "$(calls /playlistItems)" = 1 ] &&
	[ "$(jq -r .published_at "$OUT" | sort | head -n 1)" = 2024-05-01T12:00:00Z ]'

: >"$LOG"
run "$DRIVE" UCnone UCsmall UCgone @handle UCsmall
expect "unknown channel and unlistable uploads: warnings, the other channels go on, exit 0" '
	check_status 0 && grep -q "^warning: UCnone: channel not found$" "$ERR" &&
	grep -q "^warning: UCgone: uploads cannot be listed: .*HTTP 404.*playlistNotFound" "$ERR" &&
	[ "$(jq -r .channel_id "$OUT" | sort | uniq -c | awk "{print \$2 \"=\" \$1}" | tr "\n" " ")" = "UChandle=5 UCsmall=5 " ]'
expect "channel ids go 50 a call in one channels.list; a handle by forHandle; duplicates once" '
	[ "$(jq -r "select(.path|endswith(\"/channels\")) | .query.id[0] // (\"h:\" + .query.forHandle[0])" "$LOG" | tr "\n" " ")" = "UCnone,UCsmall,UCgone h:@handle " ] &&
	grep -q " ok=2 failed=2 " "$ERR"'

# ---- retries (lib/http.c policy, faults scripted in the fake) ----
start_fake --fault 'videos=500'
run "$DRIVE" UCsmall
expect "HTTP 500 on videos.list: retried, then all 5 videos, exit 0" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 5 ] &&
	[ "$(jq -r "select(.path|endswith(\"/videos\")) | .status" "$LOG" | tr "\n" " ")" = "500 200 " ] &&
	grep -q "^retry 1 500 .* HTTP 500$" "$ERR" && grep -q "^stats quota=3 attempts=4 " "$ERR"'

start_fake --fault 'channels=503x2'
run "$DRIVE" UCsmall
expect "HTTP 503 twice on channels.list: third attempt succeeds" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 5 ] &&
	[ "$(jq -r "select(.path|endswith(\"/channels\")) | .status" "$LOG" | tr "\n" " ")" = "503 503 200 " ]'

start_fake --fault 'playlistItems=429,retry-after=1'
t0=$(date +%s.%N)
run "$DRIVE" UCsmall
t1=$(date +%s.%N)
expect "HTTP 429 with Retry-After: 1: waited >= 1 s, then succeeded" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 5 ] &&
	grep -q "^retry 1 429 1.000 HTTP 429$" "$ERR" &&
	jq -rs "[.[] | select(.path|endswith(\"/playlistItems\")) | .t] | .[1] - .[0] >= 0.95" "$LOG" | grep -qx true &&
	awk -v a="$t0" -v b="$t1" "BEGIN {exit !(b - a >= 1.0)}"'

start_fake --fault 'channels=500x0'
PD_HTTP_MAX_RETRIES=2 run "$DRIVE" UCsmall
expect "HTTP 500 for good: 3 attempts (2 retries), exit 3 with the status in the message" '
	check_status 3 && [ "$(calls /channels)" = 3 ] &&
	grep -q "^error: YouTube API channels.list: GET http://127.0.0.1:$PORT/youtube/v3/channels: HTTP 500 (gave up after 3 attempts)$" "$ERR"'
expect "no secret in messages (the URL loses its query, key= included)" '! grep -q test-key "$ERR"'

# ---- quota and key ----
start_fake --quota-after 0
run "$DRIVE" UCsmall
expect "quota exhausted (403 quotaExceeded): exit 3, a clear message, no retry" '
	check_status 3 && [ "$(calls)" = 1 ] &&
	grep -q "^error: YouTube API quota exhausted (quotaExceeded, HTTP 403 on channels.list: The request cannot be completed because you have exceeded your quota); the daily quota resets at midnight Pacific time$" "$ERR"'
start_fake --quota-after 4
run "$DRIVE" UCmany
expect "quota exhausted half way (videos.list): exit 3, quota used still reported" '
	check_status 3 && grep -q "^error: YouTube API quota exhausted (quotaExceeded, HTTP 403 on videos.list" "$ERR" &&
	grep -q "^stats quota=7 " "$ERR" && [ "$(wc -l <"$OUT")" = 0 ]'

start_fake
YOUTUBE_API_KEY=wrong-key run "$DRIVE" UCsmall
expect "invalid key (400 API_KEY_INVALID): exit 3, says the key is not valid, no retry, key not shown" '
	check_status 3 && [ "$(calls)" = 1 ] &&
	grep -q "^error: YouTube API key in YOUTUBE_API_KEY is not valid (HTTP 400 on channels.list: API key not valid. Please pass a valid API key)$" "$ERR" &&
	! grep -q wrong-key "$ERR"'
: >"$LOG"
env -u YOUTUBE_API_KEY "$DRIVE" UCsmall >"$OUT" 2>"$ERR"; status=$?
expect "missing YOUTUBE_API_KEY: exit 2, a clear message, no request" '
	check_status 2 && grep -q "^error: YOUTUBE_API_KEY is not set" "$ERR" && [ "$(calls)" = 0 ]'

# ---- a hung server and a dead one ----
start_fake --hang 'channels=60'
t0=$(date +%s)
PD_HTTP_TIMEOUT_MS=1000 PD_HTTP_MAX_RETRIES=1 run "$DRIVE" UCsmall
t1=$(date +%s)
expect "a hung server: timed out twice (1 s each), exit 3 within 10 s" '
	check_status 3 && [ $((t1 - t0)) -lt 10 ] && [ "$(calls /channels)" = 2 ] &&
	grep -q "^error: YouTube API channels.list: GET http://127.0.0.1:$PORT/youtube/v3/channels: Operation timed out after 10[0-9][0-9] milliseconds" "$ERR"'
fake_stop
PD_HTTP_MAX_RETRIES=1 run "$DRIVE" UCsmall
expect "no server (connection refused): exit 3 after the retries, message names the failure" '
	check_status 3 && grep -q "^error: YouTube API channels.list: GET http://127.0.0.1:$PORT/youtube/v3/channels: .*onnect.*(gave up after 2 attempts)$" "$ERR"'

# ---- through pd-fetch --youtube-channel ----
NOW=--now=2024-06-02T00:00:00Z
if pd-fetch --help 2>/dev/null | grep -q -- --youtube-channel &&
   ! YOUTUBE_API_KEY= pd-fetch --youtube-channel UCx 2>&1 | grep -q "not available in this build"; then
	start_fake
	"$DRIVE" UCmany UCspecial >"$TMP/drive.ndjson" 2>/dev/null
	: >"$LOG"
	run pd-fetch "$NOW" --youtube-channel UCmany --youtube-channel UCspecial --youtube-channel UCnone
	cp "$OUT" "$TMP/fetch.ndjson"
	expect "pd-fetch: 124 video records and a metric record, exit 0" '
		check_status 0 && [ "$(grep -c "^{\"type\":\"video\"" "$OUT")" = 124 ] &&
		[ "$(tail -n 1 "$OUT" | jq -r .type)" = metric ]'
	expect "pd-fetch: an unknown channel is a warning naming it; the others go on" '
		grep -q "^pd-fetch: .*UCnone.*channel not found$" "$ERR" &&
		[ "$(jq -r "select(.type==\"video\") | .channel_id" "$OUT" | sort | uniq -c | awk "{print \$2 \"=\" \$1}" | tr "\n" " ")" = "UCmany=120 UCspecial=4 " ]'
	expect "pd-fetch: the records are those of the module, with age_days and perf added" '
		cmp <(jq -c "select(.type==\"video\") | del(.age_days, .perf, .perf_basis, .perf_reason)" "$OUT") "$TMP/drive.ndjson" &&
		[ "$(jq -r "select(.type==\"video\" and .channel_id==\"UCmany\" and .perf==null) | .id" "$OUT" | wc -l)" = 0 ] &&
		[ "$(jq -r "select(.id==\"many-0000\") | .age_days" "$OUT")" = 0.5 ]'
	expect "pd-fetch: durations with days, live P0D null, hidden likes null" '
		video_is special-0002 ".duration_s == 93784" && video_is special-0003 ".duration_s == null" &&
		video_is special-0000 ".likes == null and .views == 1000"'
	expect "pd-fetch: videos.list at most 50 ids a call; quota units in the metric record" '
		[ "$(jq -r "select(.path|endswith(\"/videos\")) | .query.id[0] | split(\",\") | length" "$LOG" | sort -n | tr "\n" " ")" = "4 20 50 50 " ] &&
		tail -n 1 "$OUT" | jq -e ".quota_units == 9 and .channels_failed == 1" >/dev/null &&
		[ "$(calls)" = 9 ]'
	run pd-fetch "$NOW" --no-metric --youtube-channel UCmany --youtube-channel UCspecial --youtube-channel UCnone
	expect "pd-fetch: same answers, same output, byte for byte" 'cmp "$OUT" <(no_metric "$TMP/fetch.ndjson")'
	run pd-fetch "$NOW" --no-metric --max-videos 10 --youtube-channel UCmany
	expect "pd-fetch --max-videos 10: the 10 newest" '
		check_status 0 && [ "$(wc -l <"$OUT")" = 10 ] && [ "$(jq -r .id "$OUT" | tail -n 1)" = many-0009 ]'

	start_fake --fault 'videos=500' --fault 'playlistItems=429,retry-after=1'
	t0=$(date +%s.%N); run pd-fetch "$NOW" --no-metric --youtube-channel UCsmall; t1=$(date +%s.%N)
	expect "pd-fetch: 500 and 429 (Retry-After: 1) retried, 1 s waited, all 5 videos, exit 0" '
		check_status 0 && [ "$(wc -l <"$OUT")" = 5 ] &&
		[ "$(jq -r ".status" "$LOG" | tr "\n" " ")" = "200 429 200 500 200 " ] &&
		awk -v a="$t0" -v b="$t1" "BEGIN {exit !(b - a >= 1.0)}"'

	start_fake --quota-after 0
	run pd-fetch "$NOW" --youtube-channel UCsmall
	expect "pd-fetch: quota exhausted => exit 3 with the message, quota used in the metric" '
		check_status 3 && grep -q "^pd-fetch: YouTube API quota exhausted (quotaExceeded" "$ERR" &&
		[ "$(calls)" = 1 ] && tail -n 1 "$OUT" | jq -e ".type == \"metric\" and .quota_units == 1" >/dev/null'
	YOUTUBE_API_KEY=wrong-key run pd-fetch "$NOW" --youtube-channel UCsmall
	expect "pd-fetch: invalid key => exit 3, the key not shown" '
		check_status 3 && grep -q "^pd-fetch: YouTube API key in YOUTUBE_API_KEY is not valid" "$ERR" &&
		! grep -q wrong-key "$ERR"'
	env -u YOUTUBE_API_KEY pd-fetch "$NOW" --youtube-channel UCsmall >"$OUT" 2>"$ERR"; status=$?
	expect "pd-fetch: missing YOUTUBE_API_KEY => exit 2 with a clear message" '
		check_status 2 && grep -q "^pd-fetch: YOUTUBE_API_KEY is not set" "$ERR"'

	start_fake --hang 'playlistItems=60'
	t0=$(date +%s)
	PD_HTTP_TIMEOUT_MS=1000 PD_HTTP_MAX_RETRIES=1 run pd-fetch "$NOW" --youtube-channel UCsmall
	t1=$(date +%s)
	expect "pd-fetch: a hung server => exit 3 within 10 s, the timeout named" '
		check_status 3 && [ $((t1 - t0)) -lt 10 ] && grep -q "^pd-fetch: .*playlistItems.*timed out" "$ERR"'
else
	skip "pd-fetch --youtube-channel" "not wired into pd-fetch yet"
fi

fake_stop
test_done
