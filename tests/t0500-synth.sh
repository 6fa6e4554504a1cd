#!/usr/bin/env bash
# pd-synth: determinism, the CSV as Python's csv module reads it, the truth
# file recounted from the output with the feature predicates, planted effects
# that are real, the NDJSON form, the realistic options (null topics that
# carry the planted features, proxies, trends, habits), and usage errors.
. "$(dirname "$0")/lib/tap.sh"

run pd-synth --videos 1000 --seed 7 --truth "$TMP/truth1.ndjson"
cp "$OUT" "$TMP/v1.csv"
expect "1000 videos: exit 0, nothing on stderr" 'check_status 0 && [ ! -s "$ERR" ]'
run pd-synth --videos 1000 --seed 7 --truth "$TMP/truth2.ndjson"
expect "same options and seed: byte-identical CSV and truth" '
	check_status 0 && cmp "$OUT" "$TMP/v1.csv" && cmp "$TMP/truth1.ndjson" "$TMP/truth2.ndjson"'
run pd-synth --videos 1000 --seed 8
expect "another seed: other videos" 'check_status 0 && ! cmp -s "$OUT" "$TMP/v1.csv"'
run pd-synth --videos 1000 --seed 7
expect "without --truth: the same CSV" 'check_status 0 && cmp "$OUT" "$TMP/v1.csv"'

# The CSV: the shared data file's header, 1000 rows of 26 fields, CRLF ends.
/usr/bin/python3 - "$TMP/v1.csv" "$PD_DATA/youtube-trending-dev.csv.gz" >"$TMP/csv.log" 2>&1 <<'PY'
import csv, gzip, os, re, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\r\n"), "no CRLF at the end"
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline=""), strict=True))
header = rows[0]
if os.path.exists(sys.argv[2]):
    real = next(csv.reader(gzip.open(sys.argv[2], "rt", encoding="utf-8", newline="")))
    assert header == real, "header differs from the shared data file: %r" % header
assert len(rows) == 1001, "%d rows" % len(rows)
for r in rows[1:]:
    assert len(r) == 26, "row of %d fields" % len(r)
    d = dict(zip(header, r))
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", d["video_id"]), d["video_id"]
    assert re.fullmatch(r"UC[A-Za-z0-9_-]{22}", d["channel_id"]), d["channel_id"]
    for k in ("published_at", "observed_at", "first_observed_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d[k]), d[k]
    assert d["published_at"] <= d["first_observed_at"] <= d["observed_at"]
    assert re.fullmatch(r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?", d["duration_iso"]), d["duration_iso"]
    for k in ("duration_s", "view_count", "like_count", "comment_count"):
        assert d[k].isdigit(), (k, d[k])
    assert d["title"] and "" not in d["tags"].split("|") or not d["tags"], d["tags"]
# every record ends in CRLF; bare LF only inside quoted fields (descriptions)
inner = sum(f.count("\n") for r in rows for f in r)
assert raw.count(b"\r\n") == len(rows), "%d CRLF for %d records" % (raw.count(b"\r\n"), len(rows))
assert raw.count(b"\n") == len(rows) + inner, "stray line feeds"
print("ok", len(rows) - 1)
PY
expect "CSV: the shared data file's header, 1000 rows of 26 valid fields (python3 csv)" '
	grep -q "^ok 1000$" "$TMP/csv.log" || { cat "$TMP/csv.log"; false; }'

# The truth recounted from the output: topic sizes, every video's truth line,
# each effect's n_with by the predicate, the truth's per-video effect marks,
# and planted effects that are real (median ln views with vs without).
# the feature predicates of lib/features.h, in Python (title words as runs of
# letters and digits), shared by the checks below
cat >"$TMP/pred.py" <<'PY'
import datetime, re
def tokens(t):
    return "".join(c if c.isalnum() or c.isspace() else " " for c in t.lower()).split()
def has(f, r):
    k, title = f["kind"], r["title"]
    if k == "ngram":
        w, tk = f["value"].split(), tokens(title)
        return any(tk[i:i + len(w)] == w for i in range(len(tk) - len(w) + 1))
    if k == "title":
        v = f["value"]
        if v == "question": return "?" in title
        if v == "exclamation": return "!" in title
        if v == "brackets": return "[" in title and "]" in title
        if v == "parens": return "(" in title and ")" in title
        if v == "listicle": return re.match(r"\s*\d", title) is not None
        if v == "year": return re.search(r"(?<!\d)(19|20)\d\d(?!\d)", title) is not None
        if v == "emoji": return any(0x1F300 <= ord(c) <= 0x1FAFF or 0x2600 <= ord(c) <= 0x27BF for c in title)
        raise ValueError(v)
    d = int(r["duration_s"])
    if k == "duration": return f["min_s"] <= d and ("max_s" not in f or d < f["max_s"])
    if k == "short": return d <= 60
    pub = datetime.datetime.strptime(r["published_at"], "%Y-%m-%dT%H:%M:%SZ")
    if k == "weekday": return pub.weekday() == f["value"]
    if k == "hour": return f["min"] <= pub.hour < f["max"]
    if k == "tag": return f["value"] in [x.lower() for x in r["tags"].split("|") if x]
    raise ValueError(k)
PY
cat >"$TMP/recount.py" <<'PY'
import csv, datetime, json, math, os, re, statistics, sys, collections
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
videos, truth_path = sys.argv[1], sys.argv[2]
fail = []
rows = list(csv.DictReader(open(videos, encoding="utf-8", newline="")))
truth = [json.loads(l) for l in open(truth_path, encoding="utf-8")]
types = collections.Counter(t["type"] for t in truth)
tv = {t["id"]: t for t in truth if t["type"] == "truth_video"}
topics = [t for t in truth if t["type"] == "truth_topic"]
effects = [t for t in truth if t["type"] == "truth_effect"]
config = [t for t in truth if t["type"] == "truth_config"][0]
ids = [r["video_id"] for r in rows]
if len(set(ids)) != len(ids): fail.append("duplicate video ids")
if types["truth_video"] != len(rows) or set(ids) != set(tv): fail.append("truth_video lines differ from the videos")
if config["effects"] != len(effects): fail.append("config effects %d, %d lines" % (config["effects"], len(effects)))
for lvl in ("macro", "meso", "micro"):
    cnt = collections.Counter(tv[i][lvl] for i in ids)
    for t in topics:
        if t["level"] == lvl and cnt[t["id"]] != t["size"]:
            fail.append("topic %s: size %d, recount %d" % (t["id"], t["size"], cnt[t["id"]]))
nulls = {t["id"] for t in topics if t["null"]}
for e in effects:
    if e["topic"] in nulls: fail.append("effect %s in a null topic" % e["id"])

from pred import tokens, has

raw_ok = 0
for e in effects:
    members = [r for r in rows if tv[r["video_id"]][e["level"]] == e["topic"]]
    w = [r for r in members if has(e["feature"], r)]
    wo = [r for r in members if not has(e["feature"], r)]
    if len(members) != e["n"]: fail.append("%s: n %d, recount %d" % (e["id"], e["n"], len(members)))
    if len(w) != e["n_with"]: fail.append("%s %s: n_with %d, recount %d" % (e["id"], e["feature"], e["n_with"], len(w)))
    if not 1.5 <= e["multiplier"] <= 4: fail.append("%s: multiplier %g" % (e["id"], e["multiplier"]))
    if e["n_with"] < 30: fail.append("%s: only %d videos with the feature" % (e["id"], e["n_with"]))
    marked = {r["video_id"] for r in members if e["id"] in tv[r["video_id"]]["effects"]}
    if marked != {r["video_id"] for r in w}: fail.append("%s: the truth's effect marks differ from the predicate" % e["id"])
    lv = lambda r: math.log(max(int(r["view_count"]), 1))
    res = lambda r: lv(r) - tv[r["video_id"]]["log_base"] - tv[r["video_id"]]["log_age"]
    d_res = statistics.median(map(res, w)) - statistics.median(map(res, wo))
    d_raw = statistics.median(map(lv, w)) - statistics.median(map(lv, wo))
    raw_ok += d_raw > 0
    # net of channel baseline and age, the difference is the planted ln(multiplier)
    if d_res < 0.5 * math.log(e["multiplier"]):
        fail.append("%s: with/without median residual differs by %.2f, planted %.2f" % (e["id"], d_res, math.log(e["multiplier"])))
    print("# %s %s %s %s x%.2f n=%d with=%d: residual %.2f raw %.2f" % (e["id"], e["level"], e["topic"], json.dumps(e["feature"]), e["multiplier"], e["n"], len(w), d_res, d_raw))
# raw ln(views) also carry channel baselines (sd 1.3) and age: most effects show through
if effects and raw_ok < 0.8 * len(effects): fail.append("raw ln(views) in the planted direction for only %d of %d effects" % (raw_ok, len(effects)))
for f in fail[:20]: print("FAIL", f)
print("effects", len(effects), "fails", len(fail))
PY
/usr/bin/python3 "$TMP/recount.py" "$TMP/v1.csv" "$TMP/truth1.ndjson" >"$TMP/recount1.log" 2>&1
expect "1000 videos: the truth file agrees with a recount of the output" '
	grep -q "^effects [1-9][0-9]* fails 0$" "$TMP/recount1.log" || { cat "$TMP/recount1.log"; false; }'

run pd-synth --videos 20000 --seed 11 --truth "$TMP/truth3.ndjson"
cp "$OUT" "$TMP/v3.csv"
/usr/bin/python3 "$TMP/recount.py" "$TMP/v3.csv" "$TMP/truth3.ndjson" >"$TMP/recount3.log" 2>&1
expect "20000 videos: the truth agrees with the output; every planted effect is real" '
	check_status 0 && grep -q "^effects [1-9][0-9] fails 0$" "$TMP/recount3.log" || { cat "$TMP/recount3.log"; false; }'
expect "20000 videos: 4 macro, 40 meso, about 400 micro topics of 20-100 videos, 16 null meso" '
	head -n 1 "$TMP/truth3.ndjson" | jq -e ".type==\"truth_config\" and .macro==4 and .meso==40 and .micro>=360 and .micro<=440 and .null_meso==16" >/dev/null &&
	[ "$(jq -r "select(.type==\"truth_topic\" and .level==\"micro\" and (.size<20 or .size>100)) | .id" "$TMP/truth3.ndjson" | wc -l)" = 0 ]'
expect "default truth: no realistic records or fields, but the stand-ins of the effects (truth_proxy)" '
	! grep -q "truth_null\|truth_channel\|\"kind\":\"evergreen\"\|\"nulls\"" "$TMP/truth3.ndjson" &&
	grep -q "^{\"type\":\"truth_proxy\",\"effect\":\"e[0-9]*\",\"why\":\"alias\"" "$TMP/truth3.ndjson"'
expect "20000 videos: topic vocabularies are disjoint" '
	[ "$(jq -r "select(.type==\"truth_topic\") | .words[]" "$TMP/truth3.ndjson" | sort | uniq -d | wc -l)" = 0 ]'

# pd-fetch reads the CSV; its age-adjusted perf follows the planted truth
run pd-fetch --no-metric "$TMP/v3.csv"
cp "$OUT" "$TMP/f3.ndjson"
/usr/bin/python3 - "$TMP/f3.ndjson" "$TMP/truth3.ndjson" >"$TMP/perf.log" 2>&1 <<'PY'
import json, math, sys
tv = {}
for l in open(sys.argv[2]):
    t = json.loads(l)
    if t["type"] == "truth_video": tv[t["id"]] = t
xs, ys, n = [], [], 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    n += 1
    if r.get("perf") is not None:
        t = tv[r["id"]]
        xs.append(math.log(r["perf"])); ys.append(t["log_effect"] + t["log_noise"])
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
cov = sum((a - mx) * (b - my) for a, b in zip(xs, ys))
corr = cov / math.sqrt(sum((a - mx) ** 2 for a in xs) * sum((b - my) ** 2 for b in ys))
print("videos %d with_perf %d corr %.3f" % (n, len(xs), corr))
print("ok" if n == 20000 and len(xs) > 0.7 * n and corr > 0.85 else "bad")
PY
expect "pd-fetch: 20000 videos, perf for 70%+, ln perf follows the planted effect + noise (r > 0.85)" '
	check_status 0 && grep -q "^ok$" "$TMP/perf.log" || { cat "$TMP/perf.log"; false; }'

# NDJSON: the same videos; pd-fetch makes the same records of both forms
run pd-synth --videos 20000 --seed 11 --format ndjson
cp "$OUT" "$TMP/v3.ndjson"
expect "ndjson: 20000 video records and a closing metric record" '
	check_status 0 && [ "$(grep -c "^{\"type\":\"video\"" "$OUT")" = 20000 ] &&
	tail -n 1 "$OUT" | jq -e ".type==\"metric\" and .stage==\"synth\" and .records_out==20000 and .effects==24" >/dev/null'
run pd-fetch --no-metric "$TMP/v3.ndjson"
expect "ndjson: pd-fetch gives the same records as from the CSV" '
	check_status 0 && cmp <(grep -v "^{\"type\":\"metric\"" "$OUT") "$TMP/f3.ndjson"'
run pd-synth --videos 1000 --seed 7 --format ndjson --no-metric
expect "ndjson --no-metric: no metric record" '
	check_status 0 && [ "$(wc -l <"$OUT")" = 1000 ] && ! grep -q "\"type\":\"metric\"" "$OUT"'

# options shape the set
run pd-synth --videos 5000 --seed 2 --topics-macro 3 --effects 5 --null-share 0.5 --start 2026-01-05 --days 30 --truth "$TMP/t4.ndjson"
expect "--topics-macro, --effects, --null-share, --start, --days" '
	check_status 0 &&
	head -n 1 "$TMP/t4.ndjson" | jq -e ".type==\"truth_config\" and .macro==3 and .effects==5 and .start==\"2026-01-05T00:00:00Z\"" >/dev/null &&
	/usr/bin/python3 -c "
import csv, sys
p = [r[\"published_at\"] for r in csv.DictReader(open(sys.argv[1], newline=\"\"))]
assert len(p) == 5000, len(p)
assert min(p) >= \"2026-01-05\" and max(p) < \"2026-02-04\", (min(p), max(p))
assert p == sorted(p)" "$OUT"'
run pd-synth --videos 5000 --seed 2 --null-share 1
expect "--null-share 1: nothing planted" '
	check_status 0 && run pd-synth --videos 5000 --seed 2 --null-share 1 --truth "$TMP/t5.ndjson" &&
	! grep -q truth_effect "$TMP/t5.ndjson" && ! grep -q "\"null\":false" "$TMP/t5.ndjson"'
run pd-synth --videos 2000 --seed 1 --noise 0 --truth "$TMP/t6.ndjson"
expect "--noise 0: no per-video noise in the truth" '
	check_status 0 && [ "$(jq -r "select(.type==\"truth_video\" and .log_noise != 0) | .id" "$TMP/t6.ndjson" | wc -l)" = 0 ]'

# Realistic structure (--realistic: null topics, proxies, trends, habits).
# The topics, channels and effects of a seed are those without the options;
# the truth lists the null topics' features and the proxies, and the output
# bears them out.
run pd-synth --videos 5000 --seed 2 --null-topics 0 --trend-share 0
expect "realistic options off (--null-topics 0 --trend-share 0): the same bytes as without" '
	check_status 0 && cmp "$OUT" <(pd-synth --videos 5000 --seed 2)'
run pd-synth --videos 20000 --seed 11 --realistic --truth "$TMP/truth7.ndjson"
cp "$OUT" "$TMP/v7.csv"
expect "--realistic: exit 0; the same effects (topic, feature, multiplier, carriers) as without" '
	check_status 0 &&
	cmp <(jq -c "select(.type==\"truth_effect\") | [.id, .topic, .feature, .multiplier, .n, .n_with]" "$TMP/truth7.ndjson") \
	    <(jq -c "select(.type==\"truth_effect\") | [.id, .topic, .feature, .multiplier, .n, .n_with]" "$TMP/truth3.ndjson")'
run pd-synth --videos 20000 --seed 11 --realistic --truth "$TMP/truth8.ndjson"
expect "--realistic: same options and seed, byte-identical CSV and truth" '
	check_status 0 && cmp "$OUT" "$TMP/v7.csv" && cmp "$TMP/truth7.ndjson" "$TMP/truth8.ndjson"'
/usr/bin/python3 "$TMP/recount.py" "$TMP/v7.csv" "$TMP/truth7.ndjson" >"$TMP/recount7.log" 2>&1
expect "--realistic: the planted effects still agree with a recount and are real" '
	grep -q "^effects [1-9][0-9] fails 0$" "$TMP/recount7.log" || { cat "$TMP/recount7.log"; false; }'

cat >"$TMP/realistic.py" <<'PY'
import csv, datetime, json, math, os, statistics, sys, collections
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pred import tokens, has
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
truth = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
T = collections.defaultdict(list)
for t in truth: T[t["type"]].append(t)
cfg = T["truth_config"][0]
tv = {t["id"]: t for t in T["truth_video"]}
topics = {t["id"]: t for t in T["truth_topic"]}
eff = {e["id"]: e for e in T["truth_effect"]}
fail, note = [], []
def chk(c, msg):
    if not c: fail.append(msg)
in_topic = lambda r, lvl, t: tv[r["video_id"]][lvl] == t

# 1. the truth lists the null topics and the proxies
meso_of = lambda t: t if topics[t]["level"] == "meso" else topics[t]["parent"]
chk(cfg["null_topics"] == len({meso_of(n["topic"]) for n in T["truth_null"]}) and cfg["null_topics"] > 0,
    "null_topics %s" % cfg["null_topics"])
chk(cfg["nulls"] == len(T["truth_null"]), "nulls %d, %d lines" % (cfg["nulls"], len(T["truth_null"])))
chk(cfg["proxies_listed"] == len(T["truth_proxy"]), "proxies_listed")
chk(cfg["trends"] == sum(e["kind"] == "trend" for e in eff.values()) > 0, "trends")
chk(all(e["direction"] == "positive" and e["kind"] in ("evergreen", "trend") for e in eff.values()), "direction/kind")
chk({n["mirrors"] for n in T["truth_null"]} == set(eff), "not every effect's feature is carried by a null topic")
# 2. null topics carry the same features at similar rates, and nothing is planted there
for n in T["truth_null"]:
    e = eff[n["mirrors"]]
    chk(n["feature"] == e["feature"] and n["kind"] == e["kind"], "%s: feature or kind differs from %s" % (n["id"], e["id"]))
    top = topics[n["topic"]]
    chk(top["null"] and (top["level"] == "meso" or topics[top["parent"]]["null"]), "%s: topic %s not null" % (n["id"], n["topic"]))
    members = [r for r in rows if in_topic(r, n["level"], n["topic"])]
    w = [r for r in members if has(n["feature"], r)]
    chk(len(members) == n["n"] and len(w) == n["n_with"], "%s: n %d/%d n_with %d/%d" % (n["id"], n["n"], len(members), n["n_with"], len(w)))
    chk({r["video_id"] for r in w} == {r["video_id"] for r in members if n["id"] in tv[r["video_id"]]["nulls"]}, "%s: marks differ" % n["id"])
    if n["level"] == e["level"]:
        a, b = n["n_with"] / n["n"], e["n_with"] / e["n"]
        chk(0.8 * b <= a <= 1.25 * b or n["n_with"] == 40, "%s: share %.2f, %s's %.2f" % (n["id"], a, e["id"], b))
    chk(all(tv[r["video_id"]]["log_effect"] == 0 for r in members), "%s: an effect in a null topic" % n["id"])
# ... and the features' rate in null topics is like in the effect topics (pooled over features)
rn = sum(n["n_with"] for n in T["truth_null"]) / sum(n["n"] for n in T["truth_null"])
re_ = sum(e["n_with"] for e in eff.values()) / sum(e["n"] for e in eff.values())
chk(0.7 * re_ <= rn <= 1.4 * re_, "pooled carrier share: null topics %.3f, effect topics %.3f" % (rn, re_))
note.append("carrier share: null topics %.3f, effect topics %.3f" % (rn, re_))
# 3. proxies: a planted phrase lengthens titles, so a length band follows it
PX = collections.defaultdict(list)
for x in T["truth_proxy"]: PX[x["effect"]].append(x)
def band(f, r):
    k = f["kind"]
    x = len(tokens(r["title"])) if k == "title_words" else len(r["title"])
    return f["min"] <= x and ("max" not in f or x < f["max"])
for e in eff.values():
    kinds = {x["feature"]["kind"]: x for x in PX[e["id"]] if x["why"] == "proxy"}
    chk(any(x["why"] == "topic_tag" for x in PX[e["id"]]), "%s: no topic tag proxy" % e["id"])
    if e["feature"]["kind"] != "ngram": continue
    chk("title_words" in kinds or "title_len" in kinds, "%s: no length band listed" % e["id"])
    members = [r for r in rows if in_topic(r, e["level"], e["topic"])]
    w = [r for r in members if has(e["feature"], r)]
    wo = [r for r in members if not has(e["feature"], r)]
    for k in ("title_words", "title_len"):
        if k not in kinds: continue
        f = kinds[k]["feature"]
        a = sum(band(f, r) for r in w) / len(w)
        b = sum(band(f, r) for r in wo) / len(wo)
        note.append("%s %s %s: %.2f of carriers, %.2f of the others" % (e["id"], e["feature"]["value"], json.dumps(f), a, b))
        chk(a >= 0.6 and a - b >= 0.4, "%s: %s in %.2f of carriers, %.2f of others" % (e["id"], json.dumps(f), a, b))
# every meso and micro topic's tag is on all its videos
for lvl in ("meso", "micro"):
    bad = [r["video_id"] for r in rows if topics[tv[r["video_id"]][lvl]]["tag"] not in r["tags"].split("|")]
    chk(not bad, "%d videos without their %s topic's tag" % (len(bad), lvl))
# 4. trends: carriers crowd into the window; the effect holds only there
start = datetime.datetime.strptime(cfg["start"], "%Y-%m-%dT%H:%M:%SZ")
for e in eff.values():
    members = [r for r in rows if in_topic(r, e["level"], e["topic"]) and e["id"] in tv[r["video_id"]]["effects"]]
    lm = math.log(e["multiplier"])
    if e["kind"] == "evergreen":
        chk(all(abs(tv[r["video_id"]]["log_effect"] - lm) < 1e-3 for r in members), "%s: evergreen effect missing" % e["id"])
        continue
    inw = [r for r in members if e["window"]["start"] <= r["published_at"] < e["window"]["end"]]
    chk(len(inw) == e["n_with_window"] and len(inw) >= 0.6 * len(members), "%s: %d of %d carriers in the window (truth %d)" % (e["id"], len(inw), len(members), e["n_with_window"]))
    ok = all(abs(tv[r["video_id"]]["log_effect"] - (lm if r in inw else 0)) < 1e-3 for r in members)
    chk(ok, "%s: the trend's effect is not exactly its window's" % e["id"])
# 5. habits: streaks only inside their windows; ln(views) is the sum of the parts
ch = {c["id"]: c for c in T["truth_channel"]}
chk(any(c["streak"] for c in ch.values()), "no hot streaks")
for r in rows:
    t = tv[r["video_id"]]
    c = ch.get(r["channel_id"])
    inside = c is not None and c["streak"] is not None and c["streak"]["start"] <= r["published_at"] < c["streak"]["end"]
    if t["log_channel"] != 0 and not inside or inside and abs(t["log_channel"] - math.log(c["streak"]["multiplier"])) > 0.01:
        fail.append("%s: log_channel %g outside its channel's streak" % (r["video_id"], t["log_channel"])); break
    v = int(r["view_count"])
    if v > 100:
        s = t["log_base"] + t["log_age"] + t["log_channel"] + t["log_effect"] + t["log_noise"]
        if abs(math.log(v) - s) > 0.01:
            fail.append("%s: ln views %.3f, parts %.3f" % (r["video_id"], math.log(v), s)); break
# habits concentrate weekdays: channels of 3+ videos post on their favourite weekday about 40% + its base rate
fav = [(r, ch[r["channel_id"]]) for r in rows if r["channel_id"] in ch]
share = sum(datetime.datetime.strptime(r["published_at"], "%Y-%m-%dT%H:%M:%SZ").weekday() == c["weekday"] for r, c in fav) / len(fav)
note.append("uploads on the channel's favourite weekday: %.2f" % share)
chk(0.35 <= share <= 0.65, "favourite weekday share %.2f" % share)
for m in note: print("#", m)
for f in fail[:20]: print("FAIL", f)
print("fails", len(fail))
PY
/usr/bin/python3 "$TMP/realistic.py" "$TMP/v7.csv" "$TMP/truth7.ndjson" >"$TMP/realistic.log" 2>&1
grep "^#" "$TMP/realistic.log" | head -n 20
expect "--realistic: null topics carry the planted features at the effect topics' rates with no effect; a length band follows each planted phrase; topic tags; trends; habits" '
	grep -q "^fails 0$" "$TMP/realistic.log" || { cat "$TMP/realistic.log"; false; }'
run pd-fetch --no-metric "$TMP/v7.csv"
/usr/bin/python3 - "$OUT" "$TMP/truth7.ndjson" >"$TMP/perf7.log" 2>&1 <<'PY'
import json, math, sys
tv = {}
for l in open(sys.argv[2]):
    t = json.loads(l)
    if t["type"] == "truth_video": tv[t["id"]] = t
xs, ys = [], []
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("perf") is not None:
        t = tv[r["id"]]
        xs.append(math.log(r["perf"])); ys.append(t["log_effect"] + t["log_noise"] + t["log_channel"])
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
cov = sum((a - mx) * (b - my) for a, b in zip(xs, ys))
corr = cov / math.sqrt(sum((a - mx) ** 2 for a in xs) * sum((b - my) ** 2 for b in ys))
print("with_perf %d corr %.3f" % (len(xs), corr))
print("ok" if len(xs) > 14000 and corr > 0.8 else "bad")
PY
expect "--realistic: pd-fetch perf follows effect + streak + noise (r > 0.8)" '
	check_status 0 && grep -q "^ok$" "$TMP/perf7.log" || { cat "$TMP/perf7.log"; false; }'
run pd-synth --videos 5000 --seed 2 --realistic --null-topics 2 --trend-share 0 --truth "$TMP/t9.ndjson"
expect "an option given with --realistic wins: --null-topics 2, --trend-share 0" '
	check_status 0 && head -n 1 "$TMP/t9.ndjson" | jq -e ".null_topics==2 and .trends==0 and .habits and .proxies" >/dev/null'
run pd-synth --videos 5000 --seed 2 --habits --format ndjson
expect "ndjson with a realistic option: the metric record counts it" '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".type==\"metric\" and .null_topics==0 and .trends==0" >/dev/null'

# usage errors: exit 2, one message and the hint
for args in "--videos 10" "--videos x" "--format xml" "--null-share 2" "--seed -1" \
	"--start yesterday" "--days 3" "--effects 500 --videos 1000" "--topics-macro 50 --videos 1000" "extra" \
	"--null-topics x" "--null-topics 50 --videos 5000" "--null-topics 1 --null-share 1 --videos 5000" \
	"--trend-share 2" "--trends=1"; do
	run pd-synth $args
	expect "usage error: pd-synth $args" '
		check_status 2 && grep -q "^pd-synth: " "$ERR" && grep -q "Try '"'"'pd-synth --help'"'"'" "$ERR" && [ ! -s "$OUT" ]'
done
run pd-synth --videos 1000 --truth /nonexistent/dir/truth.ndjson
expect "an unwritable --truth file: exit 3 with its name" '
	check_status 3 && grep -q "/nonexistent/dir/truth.ndjson" "$ERR"'
run pd-synth --help
expect "--help names every option" '
	check_status 0 && for o in videos seed truth format topics-macro effects null-share start days noise \
		null-topics proxies trends trend-share habits realistic; do
		grep -q -- "--$o" "$OUT" || { echo "no --$o"; exit 1; }; done'
run pd-synth --version
expect "--version" 'check_status 0 && head -n 1 "$OUT" | grep -Eq "^pd-synth \(pd\) [0-9]+\.[0-9]+\.[0-9]+$"'
test_done
