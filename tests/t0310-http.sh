#!/usr/bin/env bash
# lib/http.c, the HTTP client every web-service module uses, against the
# generic loopback server tests/fake_http.py through a small driver
# (tests/drivers/http_drive.c): methods, bodies and headers as sent, the
# bearer token, retries on 503/500/429 and dropped connections, Retry-After
# in seconds and as an HTTP date, no retry on 4xx, exhaustion and the total
# time bound, timeouts, concurrency of pd_http_many, reproducible jitter.
. "$(dirname "$0")/lib/tap.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
export PD_HTTP_BACKOFF_MS=50 PD_HTTP_MAX_BACKOFF_MS=5000

. "$(dirname "$0")/lib/fake.sh"
LOG=$TMP/requests.log
start_fake() {	# fake_http.py flags...
	: >"$LOG"
	fake_start "$PD_TOP/tests/fake_http.py" --log "$LOG" --max-seconds 120 "$@"
	PORT=$FAKE_PORT
	U=$FAKE_URL
}
calls() { jq -r --arg p "${1:-}" 'select($p == "" or .path == $p) | .n' "$LOG" | wc -l; }
# field N of the driver's output line: i status attempts wait retry_after body
field() { awk -v f="$1" '{print $f}' "$OUT"; }
body() { cut -d' ' -f6- "$OUT"; }

DRIVE=$PD_TOP/build/drivers/http_drive
if [ -x "$DRIVE" ]; then
	ok "test driver built by make unit (build/drivers/http_drive)"
else
	not_ok "test driver built by make unit (build/drivers/http_drive): missing, run make unit"
fi

start_fake
run "$DRIVE" "$U/echo?a=1&b=x%20y"
expect "GET: status 200, one attempt, query as sent, pd user agent" '
	check_status 0 && [ "$(field 2) $(field 3)" = "200 1" ] &&
	body | jq -e ".method == \"GET\" and .query == {a: [\"1\"], b: [\"x y\"]} and
		(.headers[\"user-agent\"] | startswith(\"pd/\"))" >/dev/null'
DRIVE_BEARER=tok-123 run "$DRIVE" -X POST -d '{"input":["a"]}' -t application/json -H 'X-Extra: 1' "$U/echo"
expect "POST: body, content type, bearer token and extra headers sent; no Expect: 100-continue" '
	check_status 0 && body | jq -e ".method == \"POST\" and .body == \"{\\\"input\\\":[\\\"a\\\"]}\" and
		.headers[\"content-type\"] == \"application/json\" and
		.headers.authorization == \"Bearer tok-123\" and .headers[\"x-extra\"] == \"1\" and
		(.headers.expect | not)" >/dev/null'
run "$DRIVE" -X PUT -d 'x' "$U/echo"
expect "PUT and DELETE go as such" '
	check_status 0 && [ "$(body | jq -r .method)" = PUT ] &&
	"$DRIVE" -X DELETE "$U/echo" | cut -d" " -f6- | jq -e ".method == \"DELETE\"" >/dev/null'
run "$DRIVE" "$U/status/404"
expect "404 is final: returned at once (exit 0, one attempt), the caller sees the status" '
	check_status 0 && [ "$(field 2) $(field 3)" = "404 1" ] && [ "$(calls /status/404)" = 1 ]'
run "$DRIVE" "$U/status/401"
expect "401 is final too" 'check_status 0 && [ "$(field 2) $(field 3)" = "401 1" ]'

start_fake --fault '/flaky=503x2'
run "$DRIVE" "$U/flaky"
expect "503 twice then an answer: 3 attempts, two retry callbacks" '
	check_status 0 && [ "$(field 2) $(field 3)" = "404 3" ] && [ "$(calls /flaky)" = 3 ] &&
	[ "$(grep -c "^retry [12] 503 .* HTTP 503$" "$ERR")" = 2 ]'
cp "$ERR" "$TMP/retries.1"
start_fake --fault '/flaky=503x2'
run "$DRIVE" "$U/flaky"
expect "the same jitter seed gives the same waits" 'cmp "$ERR" "$TMP/retries.1"'
expect "waits within the backoff ceilings (50 ms, then 100 ms)" '
	awk "/^retry 1 /{if (\$4 > 0.05) exit 1} /^retry 2 /{if (\$4 > 0.1) exit 1}" "$ERR"'

start_fake --fault '/ra=429,retry-after=1'
t0=$(date +%s.%N); run "$DRIVE" "$U/ra"; t1=$(date +%s.%N)
expect "429 with Retry-After: 1 waits 1 s (not the 50 ms backoff)" '
	check_status 0 && [ "$(field 3)" = 2 ] && [ "$(field 5)" = 1.000 ] &&
	grep -q "^retry 1 429 1.000 HTTP 429$" "$ERR" && awk -v a="$t0" -v b="$t1" "BEGIN {exit !(b - a >= 1.0)}"'
start_fake --fault '/rd=503,retry-after=Wed, 21 Oct 2015 07:28:00 GMT'
run "$DRIVE" "$U/rd"
expect "503 with Retry-After as a past HTTP date: retried without waiting" '
	check_status 0 && [ "$(field 3)" = 2 ] && grep -q "^retry 1 503 0.000 HTTP 503$" "$ERR"'
start_fake --fault '/big=429,retry-after=3600'
t0=$(date +%s); PD_HTTP_MAX_BACKOFF_MS=300 run "$DRIVE" "$U/big"; t1=$(date +%s)
expect "Retry-After is capped by max_backoff_ms" '
	check_status 0 && grep -q "^retry 1 429 0.300 HTTP 429$" "$ERR" && [ $((t1 - t0)) -lt 3 ]'

start_fake --close '/cl'
run "$DRIVE" "$U/cl"
expect "a connection closed without a reply is retried" '
	check_status 0 && [ "$(field 3)" = 2 ] && grep -q "^retry 1 0 .*Empty reply from server" "$ERR"'

start_fake --fault '/down=500x0'
PD_HTTP_MAX_RETRIES=2 run "$DRIVE" "$U/down?api_key=SECRET"
expect "500 for good: 3 attempts then failure, exit 3, URL without its query" '
	check_status 3 && [ "$(calls /down)" = 3 ] &&
	grep -q "^error 0: GET http://127.0.0.1:$PORT/down: HTTP 500 (gave up after 3 attempts)$" "$ERR" &&
	! grep -q SECRET "$ERR"'
t0=$(date +%s); PD_HTTP_TOTAL_TIMEOUT_MS=1500 PD_HTTP_MAX_RETRIES=100 PD_HTTP_BACKOFF_MS=400 run "$DRIVE" "$U/down"; t1=$(date +%s)
expect "the total time bound ends the retries (1.5 s, 100 retries allowed)" '
	check_status 3 && [ $((t1 - t0)) -lt 4 ] && grep -q "total time bound of 1500 ms" "$ERR"'

start_fake --hang '/slow=30'
t0=$(date +%s); PD_HTTP_TIMEOUT_MS=700 PD_HTTP_MAX_RETRIES=1 run "$DRIVE" "$U/slow"; t1=$(date +%s)
expect "a hung server: each attempt times out (0.7 s), exit 3 within 5 s" '
	check_status 3 && [ $((t1 - t0)) -lt 5 ] && [ "$(calls /slow)" = 2 ] &&
	grep -q "^error 0: GET http://127.0.0.1:$PORT/slow: Operation timed out after 7[0-9][0-9] milliseconds" "$ERR"'

start_fake
urls=(); for i in 1 2 3 4 5 6; do urls+=("$U/sleep/0.5"); done
t0=$(date +%s.%N); run "$DRIVE" -c 3 "${urls[@]}"; t1=$(date +%s.%N)
expect "pd_http_many: 6 requests of 0.5 s, 3 in flight: about 1 s" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 6 ] && [ "$(field 2 | sort -u)" = 200 ] &&
	awk -v a="$t0" -v b="$t1" "BEGIN {d = b - a; exit !(d >= 0.95 && d < 2.4)}"'
start_fake --fault '/status/200=503x1' --fault '/status/500=500x0'
PD_HTTP_MAX_RETRIES=1 run "$DRIVE" -c 2 "$U/status/200" "$U/status/500" "$U/status/201"
expect "pd_http_many: each request on its own; one failure does not stop the others" '
	check_status 3 && [ "$(field 1 | tr "\n" " ")" = "0 2 " ] &&
	[ "$(awk "{print \$2 \"/\" \$3}" "$OUT" | tr "\n" " ")" = "200/2 201/1 " ] &&
	grep -q "^error 1: GET http://127.0.0.1:$PORT/status/500: HTTP 500 (gave up after 2 attempts)$" "$ERR"'

run "$DRIVE" -m 1000 "$U/big/1000"
expect "a response of max_body bytes is kept whole" 'check_status 0 && [ "$(body | wc -c)" = 1001 ]'
run "$DRIVE" -m 1000 "$U/big/1001"
expect "a longer response is an error, not retried" '
	check_status 3 && ! grep -q "^retry" "$ERR" &&
	grep -q "^error 0: GET $U/big/1001: response larger than 1000 bytes$" "$ERR"'

fake_stop
PD_HTTP_MAX_RETRIES=1 run "$DRIVE" "$U/echo"
expect "connection refused: retried, then exit 3 naming the failure" '
	check_status 3 && grep -q "^retry 1 0 " "$ERR" && grep -q "^error 0: GET $U/echo: .*(gave up after 2 attempts)$" "$ERR"'
run "$DRIVE" "ftp://127.0.0.1:$PORT/x"
expect "only http and https: another scheme fails at once" '
	check_status 3 && ! grep -q "^retry" "$ERR" && grep -q "^error 0: GET ftp://" "$ERR"'

test_done
