#!/usr/bin/env bash
# pd-report: the page as a person sees it.  The page is written (atomically),
# escapes what it shows, counts what the input holds; then headless Chromium
# opens it: it renders, the screenshot is not blank, the console stays empty,
# the script ran, the numbers in the rendered DOM match the input, and a page
# of 1,000 niches and 10,000 patterns renders within a time bound.  With
# DATABASE_URL, the same from the database, with the tracking view.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"
PY=/usr/bin/python3
EX=$PD_TOP/examples/report-input.ndjson

# counts FILE: the summary cards and rows of a page, as "key=value" lines
counts() {
	$PY - "$1" <<'PYEOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
for k, v in re.findall(r'id="n-([a-z-]+)"><b>([0-9,]+)</b>', s):
    print("%s=%s" % (k, v.replace(",", "")))
print("niche_details=%d" % len(re.findall(r'<details class="?niche', s)))
print("pattern_rows=%d" % len(re.findall(r'<tr class="?pat"?>', s)))
print("track_rows=%d" % (len(re.findall(r'<tr>', re.split(r'id="?track-table', s)[1].split('</table>')[0].split('<tbody>')[1])) if re.search(r'id="?track-table', s) else 0))
PYEOF
}
# has KEY VALUE in the file of counts
has() { grep -qx "$1=$2" "$3" || { echo "expected $1=$2 in:"; cat "$3"; false; }; }

run pd-report -o "$TMP/ex.html" "$EX"
expect 'a page from the example stream, exit 0, nothing on stdout' '
	check_status 0 && [ ! -s "$OUT" ] && [ -s "$TMP/ex.html" ] &&
	head -c 15 "$TMP/ex.html" | grep -q "<!DOCTYPE html>"'
expect 'written atomically: no temporary file left, mode 0644' '
	[ -z "$(ls "$TMP" | grep "\.tmp\.")" ] && [ "$(stat -c %a "$TMP/ex.html")" = 644 ]'
counts "$TMP/ex.html" >"$TMP/ex.counts"
expect 'the counts on the page match the input' '
	has patterns 7 "$TMP/ex.counts" && has validated 3 "$TMP/ex.counts" &&
	has provisional 3 "$TMP/ex.counts" && has rejected 1 "$TMP/ex.counts" &&
	has evergreen 5 "$TMP/ex.counts" && has trend 2 "$TMP/ex.counts" &&
	has niches 7 "$TMP/ex.counts" && has niches-with 6 "$TMP/ex.counts" &&
	has niche_details 6 "$TMP/ex.counts" && has track_rows 2 "$TMP/ex.counts"'
expect 'every text from the data is escaped' '
	! grep -q "<script>alert" "$TMP/ex.html" && ! grep -q "<img src=x" "$TMP/ex.html" &&
	grep -q "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot; &#39;single&#39;" "$TMP/ex.html" &&
	grep -q "🎮 hardcore" "$TMP/ex.html" && grep -q "موسيقى" "$TMP/ex.html" &&
	[ "$(grep -c "<script>" "$TMP/ex.html")" = 1 ]'
expect 'self-contained: nothing is loaded from elsewhere' '
	! grep -Eiq "(src|href)=\"?(https?:)?//" "$TMP/ex.html" && ! grep -qi "@import" "$TMP/ex.html"'
expect 'validated patterns come first in a niche, then by confidence' '
	$PY -c "
import re,sys
s=open(\"$TMP/ex.html\",encoding=\"utf-8\").read().split(\"id=niches\")[1]
d=s.split(\"<details class=niche\")[1]
st=re.findall(r\"class=\\\"b b-(validated|provisional|rejected)\",d)
assert st==[\"validated\",\"provisional\"], st
"'
SOURCE_DATE_EPOCH=1767225600 pd-report "$EX" >"$TMP/a.html" 2>"$ERR"
SOURCE_DATE_EPOCH=1767225600 pd-report "$EX" >"$TMP/b.html" 2>>"$ERR"
expect 'same input and SOURCE_DATE_EPOCH: the same page, byte for byte' '
	cmp "$TMP/a.html" "$TMP/b.html" && grep -q "Generated 2026-01-01 00:00 UTC" "$TMP/a.html"'

{ cat "$EX"; echo '{"type":"pattern","name":"no id"}'; echo 'not json'; } >"$TMP/bad.ndjson"
run pd-report --rejects "$TMP/rej" -o "$TMP/bad.html" "$TMP/bad.ndjson"
expect 'bad records: reported with their line, rejected, the page still written (exit 1)' '
	check_status 1 && grep -q "bad.ndjson:26:" "$ERR" && grep -q "bad.ndjson:27:" "$ERR" &&
	[ "$(wc -l <"$TMP/rej")" = 2 ] && [ -s "$TMP/bad.html" ]'
cp "$TMP/ex.html" "$TMP/keep.html"
run pd-report -o "$TMP/no/such/dir/x.html" "$EX"
expect 'an output that cannot be written: exit 3 with the file named' '
	check_status 3 && grep -q "no/such/dir/x.html" "$ERR"'
run pd-report --db "$EX"
expect '--db with FILE operands is a usage error' 'check_status 2'

# ---- the large page: 1,000 niches, 10,000 patterns ----
$PY - >"$TMP/big.ndjson" <<'PYEOF'
import json, random
rnd = random.Random(7)
words = ["cooking", "минecraft", "música", "音乐", "🎮", "गाना", "عربي", "vlog", "<b>bold</b>", "review", "tutorial", "asmr"]
st = ["validated", "provisional", "rejected"]
for c in range(1000):
    cid = "m%d.%d" % (c // 100, c % 100)
    print(json.dumps({"type": "cluster", "id": cid, "level": "meso", "parent": "m%d" % (c // 100),
        "size": 100 + rnd.randrange(5000), "perf": {"median": round(rnd.uniform(0.6, 1.6), 3)},
        "channels": 10 + rnd.randrange(300), "label": rnd.sample(words, 3)}, ensure_ascii=False))
    for p in range(10):
        e = rnd.uniform(1.05, 4)
        print(json.dumps({"type": "pattern", "id": "p%d-%d" % (c, p), "cluster": cid, "level": "meso",
            "kind": rnd.choice(["evergreen", "trend"]), "status": st[(c + p) % 3],
            "name": "Titles containing \"%s\" %d" % (rnd.choice(words), p),
            "description": "In the niche, titles with it get %.1fx the views (95%% CI)." % e,
            "confidence": round(rnd.random(), 3),
            "stats": {"n": 500, "n_with": 20 + p, "effect": round(e, 3),
                      "effect_ci": [round(e * 0.8, 3), round(e * 1.25, 3)], "channels": 5 + p},
            "validation": {"holdout": {"n_with": 9, "replicated": p % 2 == 0}}}, ensure_ascii=False))
for s, t in [("fetch", 3.1), ("embed", 9.5), ("cluster", 12.2), ("mine", 30.4), ("validate", 31.0)]:
    print(json.dumps({"type": "metric", "stage": s, "seconds": t, "records_in": 100000, "records_out": 100000, "rejected": 0}))
PYEOF
t0=$(date +%s.%N)
run pd-report -o "$TMP/big.html" "$TMP/big.ndjson"
t1=$(date +%s.%N)
big_bytes=$(stat -c %s "$TMP/big.html" 2>/dev/null || echo 0)
echo "# pd-report wrote 1,000 niches / 10,000 patterns in $(echo "$t1 - $t0" | bc) s: $big_bytes bytes"
counts "$TMP/big.html" >"$TMP/big.counts"
expect 'the large page holds every niche and pattern, under 20 MB' '
	check_status 0 && has patterns 10000 "$TMP/big.counts" && has niches 1000 "$TMP/big.counts" &&
	has niche_details 1000 "$TMP/big.counts" && [ "$big_bytes" -lt 20000000 ] &&
	[ "$(grep -c "class=pat>" "$TMP/big.html")" -ge 10000 ]'
run pd-report --max-niches 100 --max-patterns 3 -o "$TMP/capped.html" "$TMP/big.ndjson"
counts "$TMP/capped.html" >"$TMP/capped.counts"
expect 'caps: --max-niches and --max-patterns, with a note of what was left out' '
	check_status 0 && has niche_details 100 "$TMP/capped.counts" &&
	grep -q "900 more niches with patterns not shown" "$TMP/capped.html" &&
	grep -q "7 more patterns of this niche not shown" "$TMP/capped.html"'

# ---- the browser ----
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
chrome() {
	local sb=
	[ "$(id -u)" = 0 ] && sb=--no-sandbox
	timeout 120 "$CHROME" --headless $sb --disable-gpu --no-first-run --no-default-browser-check \
		--disable-extensions --disable-dev-shm-usage --hide-scrollbars \
		--user-data-dir="$TMP/chrome-profile" --enable-logging=stderr --v=0 "$@"
}
browser_ok=0
if [ -n "$CHROME" ] && chrome --dump-dom "file://$TMP/ex.html" >"$TMP/probe.dom" 2>"$TMP/probe.err" &&
	grep -q 'data-ready="1"' "$TMP/probe.dom"; then
	browser_ok=1
fi
if [ "$browser_ok" = 0 ]; then
	why="chromium cannot start here${CHROME:+ ($CHROME: $(grep -m1 -iE 'error|fatal' "$TMP/probe.err" | head -c 120))}"
	echo "# SKIP browser tests: $why"
	for d in 'the page renders in Chromium' 'the screenshot is not blank' \
		'the console has no errors, the script ran' 'the numbers in the rendered page match the input' \
		'the console check catches an error' 'the large page renders within 60 s'; do
		skip "$d" "$why"
	done
else
	# non-blank: PNG decoded with the standard library; many colours, and
	# enough pixels that are not the background
	pixcheck() {
		$PY - "$1" <<'PYEOF'
import sys, zlib, struct, collections
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
i, idat = 8, b""
while i < len(d):
    n, = struct.unpack(">I", d[i:i + 4]); t = d[i + 4:i + 8]; c = d[i + 8:i + 8 + n]; i += 12 + n
    if t == b"IHDR": w, h, bd, ct = struct.unpack(">IIBB", c[:10])
    elif t == b"IDAT": idat += c
bpp = {2: 3, 6: 4}[ct]; raw = zlib.decompress(idat); stride = w * bpp
prev = bytearray(stride); p = 0; hist = collections.Counter()
for y in range(h):
    f = raw[p]; line = bytearray(raw[p + 1:p + 1 + stride]); p += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c2 = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c2), abs(a - c2), abs(a + b - 2 * c2)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c2)) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            hist[bytes(line[x:x + 3])] += 1
    prev = line
total = sum(hist.values()); top = hist.most_common(1)[0][1]
print("%dx%d colours=%d background=%.0f%%" % (w, h, len(hist), 100.0 * top / total))
sys.exit(0 if len(hist) >= 50 and top / total < 0.9 else 1)
PYEOF
	}
	chrome --screenshot="$TMP/ex.png" --window-size=1000,800 "file://$TMP/ex.html" >/dev/null 2>"$TMP/shot.err"
	status=$?
	expect 'the page renders in Chromium' 'check_status 0 && [ -s "$TMP/ex.png" ]'
	expect 'the screenshot is not blank' 'pixcheck "$TMP/ex.png"'
	chrome --dump-dom "file://$TMP/ex.html" >"$TMP/ex.dom" 2>"$TMP/dom.err"
	expect 'the console has no errors, the script ran' '
		! grep -E "CONSOLE|Uncaught|Refused to" "$TMP/dom.err" "$TMP/shot.err" &&
		grep -q "data-ready=\"1\"" "$TMP/ex.dom"'
	counts "$TMP/ex.dom" >"$TMP/dom.counts"
	expect 'the numbers in the rendered page match the input' '
		has patterns 7 "$TMP/dom.counts" && has validated 3 "$TMP/dom.counts" &&
		has rejected 1 "$TMP/dom.counts" && has trend 2 "$TMP/dom.counts" &&
		has niche_details 6 "$TMP/dom.counts" && grep -q "1.42×" "$TMP/ex.dom" &&
		grep -q "1.21×.*1.66×" "$TMP/ex.dom"'
	printf '<!DOCTYPE html><p>x</p><script>console.error("planted");nosuch();</script>\n' >"$TMP/err.html"
	chrome --dump-dom "file://$TMP/err.html" >/dev/null 2>"$TMP/err.err"
	expect 'the console check catches an error' 'grep -q "CONSOLE.*planted" "$TMP/err.err"'
	t0=$(date +%s.%N)
	chrome --screenshot="$TMP/big.png" --window-size=1200,900 "file://$TMP/big.html" >/dev/null 2>"$TMP/big.err"
	status=$?
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
	echo "# Chromium rendered 1,000 niches / 10,000 patterns ($big_bytes bytes) in $secs s"
	expect 'the large page renders within 60 s, without console errors' '
		check_status 0 && [ -s "$TMP/big.png" ] && [ "$(echo "$secs < 60" | bc)" = 1 ] &&
		! grep -E "CONSOLE|Uncaught" "$TMP/big.err" && pixcheck "$TMP/big.png"'
fi

# ---- from the database ----
if store_db pd_t1900; then
	trap 'store_db_drop; _tap_cleanup' EXIT
	gen_stream --videos 60 --dim 8 --seed 3 | pd-store --quiet --no-passthrough >/dev/null 2>"$ERR"
	gen_stream --videos 60 --dim 8 --seed 3 --variant 1 | pd-store --quiet --no-passthrough >/dev/null 2>>"$ERR"
	run pd-report --db --no-redis -o "$TMP/db.html"
	counts "$TMP/db.html" >"$TMP/db.counts"
	np=$(q "select count(*) from active_patterns")
	nc=$(q "select count(*) from active_clusters")
	nr=$(q "select count(*) from discovery_runs")
	expect 'from the database: the active run, its counts, the run history' '
		check_status 0 && has patterns "$np" "$TMP/db.counts" && has niches "$nc" "$TMP/db.counts" &&
		has runs "$nr" "$TMP/db.counts" && grep -q "Patterns per run" "$TMP/db.html" &&
		! grep -q "id=track" "$TMP/db.html"'
	q "insert into predictions (run_id, pattern_id, video_id, expected_perf, has_feature, record)
	     select 2, 'p1-0', id, 1.8, true, '{}'::jsonb from videos limit 3;
	   refresh materialized view pattern_effectiveness" >/dev/null
	run pd-report --db --no-redis -o "$TMP/db2.html"
	counts "$TMP/db2.html" >"$TMP/db2.counts"
	expect 'with the tracking view: predicted vs actual per pattern' '
		check_status 0 && has track_rows 1 "$TMP/db2.counts" && grep -q "How-to titles 0" "$TMP/db2.html"'
	if [ -n "${REDIS_URL:-}" ]; then
		run pd-report --db -o "$TMP/db3.html"
		expect 'with REDIS_URL: the Redis hit rate' 'check_status 0 && grep -q "id=redis-row" "$TMP/db3.html"'
	fi
else
	skip 'from the database' 'no DATABASE_URL'
	skip 'with the tracking view' 'no DATABASE_URL'
fi
test_done
