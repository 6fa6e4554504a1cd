#!/usr/bin/python3
"""make-seeds.py - write the fuzzers' seed corpora (tests/fuzz/seeds/NAME/)
from the replies of the tests' fake servers (tests/fake_*.py) and pd's own
outputs, so that fuzzing starts from real shapes.  Replies for the HTTP
fuzzers are joined by "===" lines (http_stub.c); "NNN " before a reply sets
its status.  Run once; the seeds are kept in git.

    tests/fuzz/make-seeds.py [BINDIR]   BINDIR holds pd-synth, pd-embed,
                                        pd-cluster, pd-mine, pd-validate
"""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "tests"))
import fake_http  # noqa: E402
import fake_openai_chat  # noqa: E402
import fake_openai_embed  # noqa: E402
import fake_youtube  # noqa: E402

out = os.path.join(top, "tests", "fuzz", "seeds")


def put(name, seed, data):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


def reply(r):
    status, _, body = r
    body = body.decode().rstrip("\n")
    return body if status == 200 else "%d %s" % (status, body)


def convo(*replies):
    return "\n===\n".join(replies)


class Args:
    pass


def req(path, query=None, body=None, headers=None):
    q = {k: [v] for k, v in (query or {}).items()}
    raw = json.dumps(body).encode() if body is not None else b""
    return fake_http.Request("POST" if body is not None else "GET", path, q,
                             headers or {}, raw, path)


# --- LLM chat completions
a = Args()
a.key, a.mode = None, "good"
fake_http.ARGS = a
pats = [{"id": "p1", "feature": "titles containing \"how to\""},
        {"id": "p2", "feature": "boring"}]
user = {"patterns": pats}
chat = {"model": "m", "messages": [{"role": "system", "content": "s"},
                                   {"role": "user", "content": json.dumps(user)}]}
for mode in ["good", "shuffle", "fence", "malformed", "badfield", "missing"]:
    a.mode = mode
    fake_openai_chat._n = 0
    r1 = reply(fake_openai_chat.handle(req("/v1/chat/completions", body=chat)))
    user3 = {"patterns": [{"id": "p3", "feature": "x"}]}
    chat3 = dict(chat, messages=[chat["messages"][0],
                                 {"role": "user", "content": json.dumps(user3)}])
    r2 = reply(fake_openai_chat.handle(req("/v1/chat/completions", body=chat3)))
    put("fuzz_llm", "chat-" + mode, convo(r1, r2))
put("fuzz_llm", "chat-429", convo('429 {"error":{"message":"slow down"}}', r1))

# --- embeddings
e = Args()
e.key, e.delay, e.dim = None, 0, 4
fake_http.ARGS = e
for mode in ["good", "badindex", "wrongdim", "nodata"]:
    e.mode = mode
    rs = []
    for batch in (["how to bake bread", " "], ["top 10 goals", "vlog"], ["x"]):
        for fmt in ("base64", "float"):
            pass
        rs.append(reply(fake_openai_embed.handle(req("/v1/embeddings", body={
            "model": "m", "input": batch, "encoding_format": "base64"}))))
    put("fuzz_embed_reply", "embed-" + mode, convo(*rs))
e.mode, e.dim = "good", 2
rs = [reply(fake_openai_embed.handle(req("/v1/embeddings", body={
    "model": "m", "input": b, "encoding_format": "base64", "dimensions": 2})))
      for b in (["a b", "c"], ["d", "e f"], ["g"])]
put("fuzz_embed_reply", "embed-good-2d", convo(*rs))
e.dim = 4
rs = [reply(fake_openai_embed.handle(req("/v1/embeddings", body={"model": "m", "input": b})))
      for b in (["a b", "c"], ["d", "e f"], ["g"])]
put("fuzz_embed_reply", "embed-arrays", convo(*rs))
put("fuzz_embed_reply", "embed-401", '401 {"error":{"message":"Incorrect API key provided"}}')

# --- YouTube
y = Args()
y.key, y.videos, y.quota_after = "k", 3, None
fake_http.ARGS = y
fake_youtube.answered = 0
B = fake_youtube.BASE
parts = "contentDetails,snippet,statistics"
for cid, tag in (("UCabcdefghijklmnopqrstuv", "plain"), ("UCspecial0000000000000000", "special"),
                 ("UCgone00000000000000000000", "gone")):
    rs = [reply(fake_youtube.handle(req(B + "/channels", {"key": "k", "part": "contentDetails,snippet",
                                                          "id": cid}))),
          reply(fake_youtube.handle(req(B + "/channels", {"key": "k", "part": "contentDetails,snippet",
                                                          "forHandle": "@handle"})))]
    for pl in ("UU" + cid[2:], "UUhandle"):     # per channel: its uploads, then its videos
        r = fake_youtube.handle(req(B + "/playlistItems", {"key": "k", "part": "contentDetails",
                                                           "maxResults": "50", "playlistId": pl}))
        rs.append(reply(r))
        if r[0] == 200:
            group = [it["contentDetails"]["videoId"] for it in json.loads(r[2])["items"]]
            r = fake_youtube.handle(req(B + "/videos", {"key": "k", "part": parts, "id": ",".join(group)}))
            rs.append(reply(r))
    put("fuzz_youtube", "fetch-" + tag, convo(*rs))
    if tag == "special":
        put("fuzz_youtube", "videos-special", rs[3])
y.quota_after = 0
put("fuzz_youtube", "quota", reply(fake_youtube.handle(req(B + "/videos", {"key": "k"}))))
y.quota_after = None
put("fuzz_youtube", "badkey", reply(fake_youtube.handle(req(B + "/videos", {"key": "wrong"}))))

# --- Pinecone (the replies tests/t0820 and t1200-match-services expect)
vec = {"vectors": {"vid-1": {"id": "vid-1", "values": [0.5, -0.5, 0.5, 0.5]}},
       "namespace": "ns", "usage": {"readUnits": 1}}
put("fuzz_pinecone", "fetch-upsert", convo(json.dumps(vec), '{"upsertedCount":3}'))
put("fuzz_pinecone", "missing", convo('{"vectors":{},"namespace":"ns"}', '{"upsertedCount":2}'))
put("fuzz_pinecone", "errors", convo('404 {"code":5,"message":"Not Found"}',
                                     '500 {"error":"internal"}'))

# --- feature predicates
feats = ['{"kind":"ngram","value":"how to"}', '{"kind":"title","value":"question"}',
         '{"kind":"title_len","min":20,"max":40}', '{"kind":"title_words","min":5}',
         '{"kind":"format","value":"tutorial"}', '{"kind":"duration","min_s":300,"max_s":600}',
         '{"kind":"short"}', '{"kind":"weekday","value":2}', '{"kind":"hour","min":18,"max":24}',
         '{"kind":"tag","value":"bread"}', '{"kind":"tag_count","min":1,"max":5}',
         '{"kind":"category","value":"Howto & Style"}', '{"kind":"desc_len","min":0,"max":100}',
         '{"kind":"desc_links"}', '{"kind":"desc_hashtags"}',
         '{"all":[{"kind":"ngram","value":"bread"},{"kind":"short"},{"kind":"hour","min":0,"max":6}]}']
for i, f in enumerate(feats):
    put("fuzz_feature", "f%02d" % i, f)
put("fuzz_feature", "title", "How to make sourdough at home? 5 TIPS (2024) | vs \U0001F600")

# --- absurd pattern records (tests/t1700-reliability.sh): each refused by all three readers
G = '"type":"pattern","pattern_type":"title","cluster":"c1","level":"micro","stats":{"p":0.01}'
C = '"centroid_b64":"AACAPwAAAAA="'
F = '"feature":{"kind":"ngram","value":"x"}'
absurd = ['{"id":"a1",%s,%s,%s,"radius":3}' % (G, F, C),
          '{"id":"a3",%s,%s,"centroid_b64":"AAAAAAAAAAA=","radius":0.3}' % (G, F),
          '{"id":"a4",%s,"feature":{"kind":"nonsense"},%s,"radius":0.3}' % (G, C),
          '{"id":"a5",%s,%s,%s,"radius":0.3,"direction":"up"}' % (G, F, C),
          '{"id":"ok",%s,%s,%s,"radius":0.3}' % (G, F, C)]
put("fuzz_pattern", "absurd", "\n".join(absurd) + "\n")

# --- pattern records, cluster files, models: from a small real pipeline run
bindir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "bin")
with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", TMPDIR=tmp)
    model = os.path.join(tmp, "model.pdm")
    sh = ("%(b)s/pd-synth --videos 3000 --seed 7 | %(b)s/pd-fetch | %(b)s/pd-embed --dims 16 --save-model %(m)s | "
          "%(b)s/pd-cluster --seed 1 | %(b)s/pd-mine | %(b)s/pd-validate" % {"b": bindir, "m": model})
    lines = subprocess.run(["bash", "-o", "pipefail", "-c", sh], env=env, check=True,
                           capture_output=True).stdout.decode().splitlines()
    cl = [l for l in lines if l.startswith('{"type":"cluster"')]
    pt = [l for l in lines if l.startswith('{"type":"pattern"')]
    vd = [l for l in lines if l.startswith('{"type":"video"')]
    put("fuzz_hier", "clusters", "\n".join(cl) + "\n")
    put("fuzz_hier", "clusters-few", "\n".join(cl[:4]) + "\n")
    few = cl[:4]
    ids = [json.loads(l)["id"] for l in few]
    near = [l for l in pt if json.loads(l).get("cluster") in ids]
    put("fuzz_pattern", "run", "\n".join(few + near[:2] + vd[:3]) + "\n")
    put("fuzz_pattern", "patterns", "\n".join(pt[:2]) + "\n")
    small = os.path.join(tmp, "small.pdm")
    subprocess.run(["bash", "-o", "pipefail", "-c",
                    "%(b)s/pd-synth --videos 100 --seed 3 | %(b)s/pd-fetch | "
                    "%(b)s/pd-embed --dims 3 --max-terms 40 --save-model %(m)s >/dev/null"
                    % {"b": bindir, "m": small}], env=env, check=True)
    for name, path in (("model", small), ("model-16d", model)):
        mb = open(path, "rb").read()
        if len(mb) < 100000:
            put("fuzz_model", name, mb[:-8])   # the harness appends the checksum
