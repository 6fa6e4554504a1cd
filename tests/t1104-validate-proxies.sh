#!/usr/bin/env bash
# pd-validate's stand-in checks on planted data with known truth: a stronger
# length band that only stands in for the phrase nested in it, a length band
# whose effect beyond the phrase holds on the older videos but not on the
# newer ones, a meso pattern whose effect lives in one micro child, and the
# controls that must stay (the phrase, a meso-wide effect, a second real
# feature overlapping the first).  Each would be validated without the check
# (pd-validate(1), "Stand-ins").
. "$(dirname "$0")/lib/tap.sh"

cat >"$TMP/gen.py" <<'PY'
import json, math, random, sys
random.seed(11)
filler = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
          "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"]
vid = 0
def video(micro, meso, extra, longt, mult, hold):
    global vid
    vid += 1
    t = random.sample(filler, 12 if longt else 3)
    for e in extra:
        t.insert(random.randrange(len(t) + 1), e)
    perf = math.exp(random.gauss(0, 0.6)) * mult
    print(json.dumps({"type": "video", "id": "v%05d" % vid, "channel_id": "ch%d" % random.randrange(40),
                      "title": " ".join(t), "published_at": "2026-0%d-15T12:00:00Z" % (7 if hold else 3),
                      "views": 1000 + vid, "perf": round(perf, 4), "perf_basis": 10, "holdout": hold,
                      "cluster": {"macro": "m0", "meso": meso, "micro": micro}}))
def cluster(micro, meso, n, plant):
    for k in range(n):
        hold = k >= int(0.7 * n)
        extra, longt, mult = plant(k, hold)
        video(micro, meso, extra, longt, mult, hold)
# c0: "grand reveal" (x3) always in a long title; as many long titles without it, no
# effect; two length bands, the stronger one and a weaker one that covers it
cluster("c0", "s0", 400, lambda k, h: (["grand reveal"], True, 3.0) if k % 5 == 0 else
        ([], True, 1.0) if k % 5 == 1 else ([], False, 1.0))
# c1: "secret ending" (x3) in long titles; other long titles do 1.8x on the older videos only
cluster("c1", "s0", 400, lambda k, h: (["secret ending"], True, 3.0) if k % 5 == 0 else
        ([], True, 1.0 if h else 1.8) if k % 5 in (1, 2) else ([], False, 1.0))
# meso s1: "trailer drop" (x3) in micro c2; a few carriers in c3-c5 with no effect;
# "cozy vibes" (x2.5) in every child: a meso-wide effect
for j, c in enumerate(("c2", "c3", "c4", "c5")):
    def plant(k, h, c=c):
        extra, mult = [], 1.0
        if (c == "c2" and k % 3 == 0) or (c != "c2" and k % 12 == 0):
            extra.append("trailer drop")
            mult *= 3.0 if c == "c2" else 1.0
        if k % 4 == 1:
            extra.append("cozy vibes")
            mult *= 2.5
        return extra, False, mult
    cluster(c, "s1", 200, plant)
# c6: two real features, drawn independently: each overlaps the other and keeps its effect
cluster("c6", "s2", 400, lambda k, h: (lambda a, b: ((["epic win"] if a else []) + (["big weekend"] if b else []),
                                                     False, (3.0 if a else 1.0) * (2.0 if b else 1.0)))(
        random.random() < 0.25, random.random() < 0.25))
pats = [("plong0", "c0", "micro", {"kind": "title_words", "min": 12}, 1e-14),
        ("preveal", "c0", "micro", {"kind": "ngram", "value": "grand reveal"}, 1e-9),
        ("plen0", "c0", "micro", {"kind": "title_len", "min": 60}, 1e-7),
        ("psecret", "c1", "micro", {"kind": "ngram", "value": "secret ending"}, 1e-12),
        ("plong1", "c1", "micro", {"kind": "title_words", "min": 12}, 1e-8),
        ("pdropmeso", "s1", "meso", {"kind": "ngram", "value": "trailer drop"}, 1e-9),
        ("pdrop", "c2", "micro", {"kind": "ngram", "value": "trailer drop"}, 1e-8),
        ("pcozy", "s1", "meso", {"kind": "ngram", "value": "cozy vibes"}, 1e-10),
        ("pepic", "c6", "micro", {"kind": "ngram", "value": "epic win"}, 1e-12),
        ("pweekend", "c6", "micro", {"kind": "ngram", "value": "big weekend"}, 1e-8)]
for pid, cl, lvl, f, p in pats:
    print(json.dumps({"type": "pattern", "id": pid, "pattern_type": "title", "feature": f,
                      "direction": "positive", "cluster": cl, "level": lvl,
                      "stats": {"p": p, "threshold": 2.0}, "examples": [], "status": "candidate"}))
print(json.dumps({"type": "mine_summary", "tests": 200, "clusters": 9, "shard": "1/1"}))
PY
/usr/bin/python3 "$TMP/gen.py" >"$TMP/planted.ndjson"

run pd-validate --keep-rejected "$TMP/planted.ndjson"
F=$TMP/val.ndjson
cp "$OUT" "$F"
expect "runs, every pattern written" 'check_status 0 && [ "$(grep -c "^{\"type\":\"pattern\"" "$F")" = 10 ]'
expect "a stronger length band that only stands in for the phrase nested in it gives way to it" '
	jrec "$F" preveal ".status == \"validated\"" &&
	jrec "$F" plong0 ".status == \"rejected\" and .validation.redundant_with == \"preveal\" and
		(.validation.reasons | map(test(\"stand-in\")) | any)" &&
	jrec "$F" plen0 ".status == \"rejected\""'
expect "a length band whose effect beyond the phrase does not hold on newer videos is rejected" '
	jrec "$F" psecret ".status == \"validated\"" &&
	jrec "$F" plong1 ".status == \"rejected\" and .validation.redundant_with == \"psecret\" and
		(.validation.reasons | map(test(\"on newer videos\")) | any)"'
expect "the effect of one micro child is not its meso cluster's: too broad, naming the child" '
	jrec "$F" pdrop ".status == \"validated\"" &&
	jrec "$F" pdropmeso ".status == \"rejected\" and .validation.too_broad_for == \"c2\" and
		(.validation.reasons[0] | startswith(\"too broad\"))"'
expect "a meso-wide effect stays (its children share it)" '
	jrec "$F" pcozy ".status == \"validated\" and .validation.too_broad_for == null"'
expect "two real features that overlap both stay" '
	jrec "$F" pepic ".status == \"validated\"" && jrec "$F" pweekend ".status == \"validated\""'
expect "the metric counts the pattern rejected as too broad" '
	[ "$(jq -r "select(.type==\"metric\") | .rejected_too_broad" "$F")" = 1 ]'
test_done
