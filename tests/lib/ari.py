#!/usr/bin/python3
"""ari.py TRUTH.ndjson CLUSTERED.ndjson LEVEL [TRUTH_LEVEL]

The adjusted Rand index between the planted topics (truth_video records) and
pd-cluster's clusters at LEVEL, over the videos present in both; prints it.
"""
import json, sys
from collections import Counter
from math import comb

truth, got, level = sys.argv[1], sys.argv[2], sys.argv[3]
tlevel = sys.argv[4] if len(sys.argv) > 4 else level
t = {}
for line in open(truth):
    r = json.loads(line)
    if r.get("type") == "truth_video":
        t[r["id"]] = str(r[tlevel])
pairs = []
for line in open(got):
    r = json.loads(line)
    if r.get("type") == "video" and "cluster" in r and r["id"] in t:
        pairs.append((t[r["id"]], r["cluster"][level]))
n = len(pairs)
a = Counter(p[0] for p in pairs); b = Counter(p[1] for p in pairs); ab = Counter(pairs)
s_ab = sum(comb(v, 2) for v in ab.values())
s_a = sum(comb(v, 2) for v in a.values()); s_b = sum(comb(v, 2) for v in b.values())
exp = s_a * s_b / comb(n, 2) if n > 1 else 0
mx = (s_a + s_b) / 2
print("%.4f" % ((s_ab - exp) / (mx - exp) if mx != exp else 1.0))
