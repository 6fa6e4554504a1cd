#!/usr/bin/env bash
# pd-fetch on CSV: the real shared data, formats, modes, determinism.
. "$(dirname "$0")/lib/tap.sh"
NOW=--now=2026-09-01T00:00:00Z
DATA=$PD_DATA/youtube-trending-dev.csv.gz

if [ -f "$DATA" ]; then
	run pd-fetch "$NOW" --rejects "$TMP/rej" "$DATA"
	cp "$OUT" "$TMP/real.ndjson"
	expect "shared data: 43,860 video records, nothing rejected, exit 0" '
		check_status 0 && [ "$(grep -c "^{\"type\":\"video\"" "$OUT")" = 43860 ] && [ ! -s "$TMP/rej" ]'
	expect "shared data: perf for the 28,231 videos of channels with 5+ videos" '
		[ "$(jq -r "select(.type==\"video\" and .perf != null) | .id" "$OUT" | wc -l)" = 28231 ]'
	expect "shared data: every null perf says why; every perf_basis >= 4 when set" '
		[ "$(jq -r "select(.type==\"video\" and .perf == null and (.perf_reason|not)) | .id" "$OUT" | wc -l)" = 0 ] &&
		[ "$(jq -r "select(.type==\"video\" and .perf != null and .perf_basis < 4) | .id" "$OUT" | wc -l)" = 0 ]'
	expect "shared data: ids are unique strings, tags arrays, counts numbers" '
		jq -r "select(.type==\"video\") | .id" "$OUT" | sort | uniq -d >"$TMP/dups"; [ ! -s "$TMP/dups" ] &&
		[ "$(jq -r "select(.type==\"video\" and ((.id|type)!=\"string\" or (.tags|type)!=\"array\" or (.views|type)!=\"number\")) | .id" "$OUT" | wc -l)" = 0 ]'
	/usr/bin/python3 -c '
import csv, gzip, json, sys
r = csv.reader(gzip.open(sys.argv[1], "rt", encoding="utf-8", newline=""))
h = next(r); i, t, g = h.index("video_id"), h.index("title"), h.index("tags")
for row in r:
    print(json.dumps([row[i], row[t].replace("\r\n", "\n"), [x for x in row[g].split("|") if x]], ensure_ascii=False))
' "$DATA" >"$TMP/py.jsonl"
	jq -c "select(.type==\"video\") | [.id, .title, .tags]" "$OUT" >"$TMP/pd.jsonl"
	expect "shared data: every id, title and tag list as Python's csv module reads them" '
		cmp <(jq -c . "$TMP/py.jsonl") "$TMP/pd.jsonl"'
	expect "shared data: the median perf is 1 (a channel-relative measure)" '
		m=$(jq -r "select(.type==\"video\" and .perf != null) | .perf" "$OUT" | sort -g | awk "{a[NR]=\$1} END {print a[int(NR/2)]}");
		awk -v m="$m" "BEGIN {exit !(m > 0.9 && m < 1.1)}"'
	expect "shared data: the metric record counts and reports the age curve" '
		tail -n 1 "$OUT" | jq -e ".type==\"metric\" and .stage==\"fetch\" and .videos==43860 and .with_perf==28231 and (.age_curve|length) > 5" >/dev/null'
	expect "shared data: the age curve rises with age" '
		tail -n 1 "$OUT" | jq -e "[.age_curve[].multiple] as \$m | \$m == (\$m|sort) and \$m[-1] > 2 * \$m[0]" >/dev/null'
	run pd-fetch "$NOW" --no-metric "$DATA"
	expect "same input, same output, byte for byte" 'cmp "$OUT" <(no_metric "$TMP/real.ndjson")'
else
	skip "shared data" "no $DATA"
fi

# Planted truth: channels with their own baselines, views growing with age, and
# known multipliers.  The age-adjusted perf must find the multipliers; the
# original guide's mean ratio, blind to age, must do worse.
/usr/bin/python3 - "$TMP/planted.csv" "$TMP/truth.txt" <<'PY'
import csv, math, random, sys
random.seed(5)
w = csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\r\n")
w.writerow(["video_id","channel_id","title","published_at","observed_at","view_count","duration_s"])
truth = open(sys.argv[2], "w")
n = 0
for c in range(120):
    base = random.gauss(10, 1.5)
    for k in range(random.randint(6, 30)):
        n += 1
        age = math.exp(random.gauss(1.0, 1.3))          # days, hours to months
        mult = random.choice([1, 1, 1, 1, 3, 0.33])
        views = math.exp(base + 0.9 * math.log(age) + math.log(mult) + random.gauss(0, 0.25))
        pub = 1762000000 + random.randint(0, 200) * 86400
        obs = pub + age * 86400
        f = lambda t: __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime(t))
        vid = "p%06d" % n
        w.writerow([vid, "UC%04d" % c, "video %d" % n, f(pub), f(obs), int(views), 300])
        truth.write("%s %s\n" % (vid, mult))
PY
run pd-fetch "$NOW" --no-metric "$TMP/planted.csv"
cp "$OUT" "$TMP/planted.ndjson"
run pd-fetch "$NOW" --no-metric --perf-mode mean "$TMP/planted.csv"
cp "$OUT" "$TMP/planted-mean.ndjson"
score() {	# how often perf ranks a planted x3 above a planted x0.33, and median |log error|
	jq -r '[.id, .perf] | @tsv' "$1" | sort >"$TMP/p.tsv"
	sort "$TMP/truth.txt" | tr ' ' '\t' | join -t "$(printf '\t')" - "$TMP/p.tsv" |
		awk -F'\t' '{ e = log($3) - log($2); if (e < 0) e = -e; print e }' | sort -g |
		awk '{a[NR]=$1} END {print a[int(NR/2)]}'
}
age_err=$(score "$TMP/planted.ndjson")
mean_err=$(score "$TMP/planted-mean.ndjson")
echo "# planted multipliers: median |log error| age mode $age_err, mean mode $mean_err"
expect "age-adjusted perf recovers planted multipliers (median |log error| < 0.25)" '
	awk -v e="$age_err" "BEGIN {exit !(e < 0.25)}"'
expect "age-adjusted perf beats the age-blind mean ratio by 2x or more" '
	awk -v a="$age_err" -v m="$mean_err" "BEGIN {exit !(a * 2 < m)}"'

# Perf modes on a hand-computed example
cat >"$TMP/modes.csv" <<'CSV'
video_id,channel_id,title,published_at,observed_at,view_count
a1,C1,t,2025-01-01T00:00:00Z,2025-06-01T00:00:00Z,100
a2,C1,t,2025-01-02T00:00:00Z,2025-06-01T00:00:00Z,200
a3,C1,t,2025-01-03T00:00:00Z,2025-06-01T00:00:00Z,300
a4,C1,t,2025-01-04T00:00:00Z,2025-06-01T00:00:00Z,400
a5,C1,t,2025-05-30T00:00:00Z,2025-06-01T00:00:00Z,1000
b1,C2,t,2025-01-01T00:00:00Z,2025-06-01T00:00:00Z,50
CSV
run pd-fetch --no-metric --perf-mode mean --min-channel-videos 5 "$TMP/modes.csv"
expect "--perf-mode mean: views / channel mean (original performance_ratio)" '
	check_status 0 && [ "$(jq -r "select(.id==\"a5\") | .perf" "$OUT")" = 2.5 ] &&
	[ "$(jq -r "select(.id==\"a1\") | .perf" "$OUT")" = 0.25 ] &&
	[ "$(jq -r "select(.id==\"b1\") | .perf" "$OUT")" = null ]'
run pd-fetch --no-metric --perf-mode median --min-channel-videos 4 "$TMP/modes.csv"
expect "--perf-mode median: views / median of the channel's videos 30+ days old" '
	check_status 0 && [ "$(jq -r "select(.id==\"a5\") | .perf" "$OUT")" = 4 ] &&
	[ "$(jq -r "select(.id==\"a5\") | .perf_basis" "$OUT")" = 4 ]'
run pd-fetch --no-metric --min-channel-videos 5 "$TMP/modes.csv"
expect "--perf-mode age: leave-one-out baseline, perf_basis = other videos" '
	check_status 0 && [ "$(jq -r "select(.id==\"a1\") | .perf_basis" "$OUT")" = 4 ] &&
	jrec "$OUT" b1 ".perf == null and (.perf_reason|test(\"1 usable video\"))"'
printf 'video_id,channel_id,title,view_count,perf\nk1,C,t,10,1.5\nk2,C,t,20,\n' >"$TMP/keep.csv"
run pd-fetch --no-metric --perf-mode keep "$TMP/keep.csv"
expect "--perf-mode keep keeps the input perf" '
	check_status 0 && [ ! -s "$ERR" ] && [ "$(jq -r "select(.id==\"k1\") | .perf" "$OUT")" = 1.5 ] &&
	[ "$(jq -r "select(.id==\"k2\") | .perf" "$OUT")" = null ]'

# Classic trending export (Kaggle USvideos.csv columns)
cat >"$TMP/classic.csv" <<'CSV'
video_id,trending_date,title,channel_title,category_id,publish_time,tags,views,likes,dislikes,comment_count,thumbnail_link,comments_disabled,ratings_disabled,video_error_or_removed,description
2kyS6SvSYSE,17.14.11,WE WANT TO TALK ABOUT OUR MARRIAGE,CaseyNeistat,22,2017-11-13T17:13:01.000Z,SHANtell martin,748374,57527,2966,15954,https://i.ytimg.com/vi/2kyS6SvSYSE/default.jpg,False,False,False,"SHANTELL'S CHANNEL - https://www.youtube.com/shantellmartin"
1ZAPwfrtAFY,17.14.11,The Trump Presidency: Last Week Tonight with John Oliver (HBO),LastWeekTonight,24,2017-11-13T07:30:00.000Z,"""last week tonight trump presidency""|""last week tonight donald trump""",2418783,97185,6146,12703,https://i.ytimg.com/vi/1ZAPwfrtAFY/default.jpg,False,False,False,"One year after the presidential election"
CSV
run pd-fetch --no-metric "$TMP/classic.csv"
expect "classic export: columns recognised, trending_date yy.dd.mm, quoted tags split" '
	check_status 0 &&
	jrec "$OUT" 2kyS6SvSYSE ".views == 748374 and .observed_at == \"2017-11-14T00:00:00Z\" and .channel_title == \"CaseyNeistat\" and .category == \"People & Blogs\"" &&
	jrec "$OUT" 1ZAPwfrtAFY ".tags == [\"last week tonight trump presidency\",\"last week tonight donald trump\"] and .extra.dislikes == \"6146\""'

# --map for other exports
printf 'vid;x\n' >/dev/null
printf 'clip,who,heading,watched,when\nz1,ch,Hello,12,2025-01-01T00:00:00Z\n' >"$TMP/other.csv"
run pd-fetch --no-metric --map id=clip --map channel_id=who --map title=heading --map views=watched --map published_at=when "$TMP/other.csv"
expect "--map names other columns" '
	check_status 0 && jq -e ".id==\"z1\" and .channel_id==\"ch\" and .title==\"Hello\" and .views==12 and .published_at==\"2025-01-01T00:00:00Z\"" "$OUT" >/dev/null'
run pd-fetch --map nosuch=x "$TMP/other.csv"
expect "--map with an unknown field is a usage error" 'check_status 2 && grep -q "unknown field" "$ERR"'
printf 'a,title\n1,2\n' >"$TMP/noid.csv"
run pd-fetch "$TMP/noid.csv"
expect "a CSV without an id column is a usage error naming --map" '
	check_status 2 && grep -q "^pd-fetch: .*noid.csv:1: the header has no id column (accepted: video_id, id, videoid); its columns: .a., .title.; --map id=COLUMN names another$" "$ERR"'
# a title column under a name pd-fetch does not know: one message at the
# header's line naming the columns found and the names accepted, no records,
# exit 2 (it once gave "title": null for every row and exit 0)
printf 'video_id,channel_id,Video Title,view_count,published_at\nw1,C,Hello,5,2025-01-01T00:00:00Z\nw2,C,World,6,2025-01-01T00:00:00Z\n' >"$TMP/notitle.csv"
run pd-fetch --no-metric "$TMP/notitle.csv"
expect "a CSV whose title column is not recognised: exit 2, no records" '
	check_status 2 && [ ! -s "$OUT" ]'
expect "... one message at FILE:1 naming the columns found, the names accepted and --map" '
	[ "$(wc -l <"$ERR")" = 1 ] &&
	grep -q "^pd-fetch: .*notitle.csv:1: the header has no title column (accepted: title); its columns: .video_id., .channel_id., .Video Title., .view_count., .published_at.; --map title=COLUMN names another$" "$ERR"'
run pd-fetch --no-metric --map "title=Video Title" "$TMP/notitle.csv"
expect "... and --map title=COLUMN reads it" '
	check_status 0 && [ "$(jq -r .title "$OUT" | tr "\n" " ")" = "Hello World " ]'
printf 'id,title\nq1,hi\n' >"$TMP/t1.csv"
printf 'video_id,name\nq2,hi\n' >"$TMP/t2.csv"
run pd-fetch --no-metric --perf-mode keep "$TMP/t1.csv" "$TMP/t2.csv"
expect "every file's header is checked: the second file's is reported" '
	check_status 2 && grep -q "t2.csv:1: the header has no title column" "$ERR"'
# the columns perf needs: without them every perf is null, which is worth a
# warning (the records are still good for other uses), once per file
printf 'video_id,title,channel_id\nv1,a,C\nv2,b,C\n' >"$TMP/noviews.csv"
run pd-fetch --no-metric "$TMP/noviews.csv"
expect "no views or published_at column: records out, one warning naming them, exit 0" '
	check_status 0 && [ "$(grep -c "\"type\":\"video\"" "$OUT")" = 2 ] && [ "$(wc -l <"$ERR")" = 1 ] &&
	grep -q "^pd-fetch: .*noviews.csv:1: every perf will be null: the header has no views column (accepted: view_count, views, viewcount), no published_at column (accepted: .*); its columns: .video_id., .title., .channel_id.; --map FIELD=COLUMN names another$" "$ERR"'
printf 'video_id,title,channel_id,view_count\nv1,a,C,1\nv2,b,C,2\n' >"$TMP/nodate.csv"
run pd-fetch --no-metric --perf-mode mean --min-channel-videos 2 "$TMP/nodate.csv"
expect "--perf-mode mean does not need published_at: no warning" '
	check_status 0 && [ ! -s "$ERR" ] && [ "$(jq -r .perf "$OUT" | tr "\n" " ")" = "0.666667 1.33333 " ]'
run pd-fetch --no-metric --perf-mode keep "$TMP/noviews.csv"
expect "--perf-mode keep wants a perf column" '
	check_status 0 && grep -q "noviews.csv:1: every perf will be null: the header has no perf column" "$ERR"'
run pd-fetch --no-metric --quiet "$TMP/noviews.csv"
expect "--quiet hides the warning" 'check_status 0 && [ ! -s "$ERR" ]'
run pd-fetch --perf-mode fastest "$TMP/other.csv"
expect "a bad --perf-mode is a usage error" 'check_status 2 && grep -q "Try" "$ERR"'
run pd-fetch "$TMP/does-not-exist.csv"
expect "a missing file is reported with its name, exit 2" 'check_status 2 && grep -q "does-not-exist.csv" "$ERR"'

# NDJSON in: videos recomputed, other records passed through in place
printf '%s\n' '{"type":"note","x":1}' \
	'{"type":"video","id":"n1","channel_id":"C","views":10,"published_at":"2025-01-01T00:00:00Z","observed_at":"2025-01-03T00:00:00Z","perf":99,"keep_me":{"a":[1,2]}}' \
	'{"type":"cluster","id":"c1"}' >"$TMP/in.ndjson"
run pd-fetch --no-metric "$TMP/in.ndjson"
expect "NDJSON: other records pass through in place, unknown fields kept, perf recomputed" '
	check_status 0 && [ "$(sed -n 1p "$OUT")" = "{\"type\":\"note\",\"x\":1}" ] &&
	[ "$(sed -n 3p "$OUT")" = "{\"type\":\"cluster\",\"id\":\"c1\"}" ] &&
	sed -n 2p "$OUT" | jq -e ".keep_me.a == [1,2] and .perf == null and .age_days == 2" >/dev/null'
IN=$TMP/in.ndjson run pd-fetch --no-metric -
expect "- reads standard input" 'check_status 0 && [ "$(wc -l <"$OUT")" = 3 ]'
test_done
