#!/usr/bin/env python3
"""mine-synth.py — videos with planted patterns, already clustered, for pd-mine.

A three-level topic tree (4 macro x 4 meso x 4 micro) stands in for pd-cluster's
hierarchy: every video's "cluster" is its topic, so what pd-mine finds can be
checked against the truth without clustering error.  perf is lognormal (median
1, sigma 0.8); inside a planted meso topic, videos with the planted feature have
their perf multiplied.  Macro topic T3 has nothing planted (the null topics).

usage: mine-synth.py [-n|--videos N] [-s|--seed S] [-t|--truth FILE] [--negative]
Writes video and cluster records to stdout; truth_effect lines to --truth, each
with the effect's empirical lift (P(perf>=2 | feature) / P(perf>=2) in its topic).
"""
import argparse, datetime, json, math, random, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("-n", "--videos", type=int, default=2000)
ap.add_argument("-s", "--seed", type=int, default=1)
ap.add_argument("-t", "--truth")
ap.add_argument("--negative", action="store_true", help="also plant under-performing features")
a = ap.parse_args()
rng = random.Random(a.seed)
NMAC = NMES = NMIC = 4
words = ("alpha bravo cargo delta ember fable gamma harbor island jungle karma lunar metro nova "
         "orbit pixel quartz rocket solar tango ultra vortex willow xenon yonder zephyr amber "
         "breeze canyon dune echo forge glacier horizon ivory jade kite lagoon meadow nectar onyx "
         "prism quill ridge summit timber umbra velvet wave yarrow zinc atlas beacon cobalt").split()
phrases = ["ultimate guide", "secret trick", "full review", "crazy challenge", "real story",
           "big mistake", "best setup", "honest opinion"]
topics = [(f"T{x}", f"T{x}.{y}", f"T{x}.{y}.{z}")
          for x in range(NMAC) for y in range(NMES) for z in range(NMIC)]
voc = {f"T{x}.{y}": rng.sample(words, 6) for x in range(NMAC) for y in range(NMES)}
kinds = ["ngram", "question", "duration", "weekday", "tag", "listicle", "format"]
plants, ki = {}, 0


def make_feature(k):
    global ki
    ki += 1
    if k == "ngram":
        return {"kind": "ngram", "value": phrases[ki % len(phrases)]}
    if k in ("question", "listicle"):
        return {"kind": "title", "value": k}
    if k == "duration":
        return {"kind": "duration", "min_s": 600, "max_s": 1200}
    if k == "weekday":
        return {"kind": "weekday", "value": 5}
    if k == "format":
        return {"kind": "format", "value": "tutorial"}
    return {"kind": "tag", "value": f"planted{ki}"}


for x in range(NMAC - 1):
    mesos = rng.sample(range(NMES), 3)
    ks4 = rng.sample(kinds, 4)  # no feature planted twice under one macro topic
    for j, y in enumerate(mesos[:2]):
        ks = ks4[2 * j:2 * j + 2]
        plants[f"T{x}.{y}"] = [{"feature": make_feature(k), "multiplier": rng.choice([1.6, 2.0, 2.5, 3.0]),
                                "prev": rng.choice([0.08, 0.12, 0.2])} for k in ks]
    if a.negative:
        plants[f"T{x}.{mesos[2]}"] = [{"feature": make_feature(rng.choice(["duration", "question", "tag"])),
                                       "multiplier": 0.35, "prev": 0.2}]
channels = {m: [f"UC{m.replace('.', '_')}_{i}" for i in range(12)] for m in voc}
base_t = 1700000000


def norm_words(t):
    return re.sub(r"[^a-z0-9 ]", " ", t.lower()).split()


def weekday(ts):
    return (ts // 86400 + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday


def has(f, v, ts):
    k = f["kind"]
    if k == "ngram":
        w, p = norm_words(v["title"]), f["value"].split()
        return any(w[i:i + len(p)] == p for i in range(len(w)))
    if k == "title":
        return "?" in v["title"] if f["value"] == "question" else v["title"][:1].isdigit()
    if k == "duration":
        return f["min_s"] <= v["duration_s"] < f["max_s"]
    if k == "weekday":
        return weekday(ts) == f["value"]
    if k == "tag":
        return f["value"] in v["tags"]
    return v.get("format") == f["value"]


vids = []
for i in range(a.videos):
    mac, mes, mic = topics[rng.randrange(len(topics))]
    effs = plants.get(mes, [])
    tw = rng.sample(voc[mes], 2) + rng.sample(words, 2)
    rng.shuffle(tw)
    dur = rng.choice([45, 200, 400, 800, 1500, 2500]) + rng.randrange(30)
    tags = rng.sample(voc[mes], 2)
    ts = base_t + rng.randrange(0, 86400 * 200)
    lead, q, fmt = "", rng.random() < 0.15, None
    for e in effs:
        f, on = e["feature"], rng.random() < e["prev"]
        k = f["kind"]
        if k == "ngram" and on:
            tw.insert(rng.randrange(len(tw) + 1), f["value"])
        elif k == "title" and f["value"] == "question":
            q = on
        elif k == "title" and on:
            lead = f"{rng.randrange(3, 20)} "
        elif k == "duration":
            dur = rng.randrange(600, 1200) if on else rng.choice([45, 200, 400, 1500, 2500])
        elif k == "weekday":
            if on and weekday(ts) != 5:
                ts += 86400 * ((5 - weekday(ts)) % 7)
            elif not on and weekday(ts) == 5:
                ts += 86400
        elif k == "tag" and on:
            tags.append(f["value"])
        elif k == "format":
            fmt = "tutorial" if on else rng.choice(["vlog", "explainer", "compilation"])
    v = {"type": "video", "id": f"v{i:06d}", "channel_id": rng.choice(channels[mes]),
         "title": lead + " ".join(tw).capitalize() + ("?" if q else ""),
         "description": " ".join(rng.sample(words, 8)), "tags": tags, "category": "Entertainment"}
    if fmt:
        v["format"] = fmt
    v["published_at"] = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    v["duration_s"] = dur
    perf = math.exp(rng.gauss(0, 0.8))
    for e in effs:
        if has(e["feature"], v, ts):
            perf *= e["multiplier"]
    v["perf"] = round(perf, 4) if rng.random() > 0.03 else None
    v["cluster"] = {"macro": mac, "meso": mes, "micro": mic}
    vids.append((v, ts))

sizes = {}
out = sys.stdout
for v, _ in vids:
    out.write(json.dumps(v, separators=(",", ":")) + "\n")
    for lvl in ("macro", "meso", "micro"):
        sizes[(lvl, v["cluster"][lvl])] = sizes.get((lvl, v["cluster"][lvl]), 0) + 1
for (lvl, cid), s in sorted(sizes.items()):
    out.write(json.dumps({"type": "cluster", "id": cid, "level": lvl,
                          "parent": None if lvl == "macro" else cid.rsplit(".", 1)[0], "size": s,
                          "centroid_b64": "AACAPwAAAAA=", "radius": 0.3}, separators=(",", ":")) + "\n")
if a.truth:
    with open(a.truth, "w") as t:
        for mes, effs in sorted(plants.items()):
            mv = [(v, ts) for v, ts in vids if v["cluster"]["meso"] == mes and v["perf"] is not None]
            base = sum(v["perf"] >= 2 for v, _ in mv) / max(1, len(mv))
            for e in effs:
                w = [v for v, ts in mv if has(e["feature"], v, ts)]
                rate = sum(v["perf"] >= 2 for v in w) / max(1, len(w))
                t.write(json.dumps({"type": "truth_effect", "level": "meso", "topic": mes,
                                    "feature": e["feature"], "multiplier": e["multiplier"],
                                    "n": len(mv), "n_with": len(w),
                                    "lift": round(rate / base, 3) if base else 0}) + "\n")
