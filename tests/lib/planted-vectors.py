#!/usr/bin/python3
"""planted-vectors.py N D TOPICS SEED OUT.ndjson [TRUTH.ndjson] [OUT.npy]

Video records with planted topic structure for pd-cluster's tests and
benchmark: TOPICS micro topics, each a unit direction; meso topics group 10
micro topics, macro topics 10 meso (directions are sums of a macro, a meso
and a micro component, so the hierarchy is nested).  Each video is its
topic's direction plus Gaussian noise, written as embedding_b64 (float32).
TRUTH gets {"type":"truth_video","id":..,"macro":..,"meso":..,"micro":..}.
OUT.npy (optional) gets the same vectors for the reference implementations.
"""
import base64, json, sys
import numpy as np

n, d, topics, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out = sys.argv[5]
truth = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] != '-' else None
npy = sys.argv[7] if len(sys.argv) > 7 else None
rng = np.random.default_rng(seed)
nmeso = max(1, topics // 10)
nmacro = max(1, nmeso // 10)
macro_dir = rng.standard_normal((nmacro, d))
meso_dir = rng.standard_normal((nmeso, d))
micro_dir = rng.standard_normal((topics, d))
def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)
macro_dir, meso_dir, micro_dir = unit(macro_dir), unit(meso_dir), unit(micro_dir)
mi = rng.integers(0, topics, n)
me = mi % nmeso
ma = me % nmacro
centers = unit(1.0 * macro_dir[ma] + 1.0 * meso_dir[me] + 1.2 * micro_dir[mi])
noise = float(__import__('os').environ.get('PD_PLANT_NOISE', '0.6'))
X = unit(centers + noise * rng.standard_normal((n, d)) / np.sqrt(d)).astype('<f4')
words = ["alpha", "beta", "gamma", "delta", "omega", "river", "stone", "cloud", "pixel", "tiger"]
with open(out, 'w') as f:
    for i in range(n):
        rec = {"type": "video", "id": "v%06d" % i, "channel_id": "ch%d" % (i % 97),
               "title": "%s %s video %d" % (words[mi[i] % 10], words[(mi[i] // 10) % 10], i),
               "perf": round(float(rng.lognormal(0, 0.8)), 4),
               "embedding_b64": base64.b64encode(X[i].tobytes()).decode()}
        f.write(json.dumps(rec, separators=(',', ':')) + "\n")
if truth:
    with open(truth, 'w') as f:
        for i in range(n):
            f.write(json.dumps({"type": "truth_video", "id": "v%06d" % i, "macro": str(ma[i]),
                                "meso": str(me[i]), "micro": str(mi[i])}) + "\n")
if npy:
    np.save(npy, X)
