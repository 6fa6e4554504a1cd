#!/usr/bin/python3
"""fake_openai_embed.py - a loopback OpenAI-compatible embeddings server for
pd-embed's tests (built on fake_http.py: port on the first line of stdout,
--log of every request, --fault/--hang/--close faults).

POST /v1/embeddings with {"model", "input": [texts], "encoding_format",
"dimensions"} answers {"object": "list", "data": [{"object": "embedding",
"index": i, "embedding": ...}], "model", "usage"}: each text's embedding is
a deterministic bag of hashed words (dimension: "dimensions", else --dim),
L2-normalised, as base64 float32 when encoding_format is "base64", else a
number array; the data items come in reverse order (clients must use index).
--mode: good; badindex (an index repeated); wrongdim (one item one float
short); nodata (no "data").  --delay S answers each request after S seconds.  Requests without "Authorization: Bearer <--key>"
get 401 when --key is set; a request without "model" or "input" gets 400.
"""
import base64
import hashlib
import os
import struct
import time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_http  # noqa: E402


def embed(text, dim):
    v = [0.0] * dim
    for w in text.lower().split():
        h = hashlib.sha256(w.encode()).digest()
        v[int.from_bytes(h[:4], "little") % dim] += 1.0 if h[4] & 1 else -1.0
    n = sum(x * x for x in v) ** 0.5 or 1.0
    return [x / n for x in v]


def handle(req):
    if req.method != "POST" or not req.path.endswith("/embeddings"):
        return None
    a = fake_http.ARGS
    if a.delay:
        time.sleep(a.delay)
    if a.key and req.headers.get("authorization") != "Bearer " + a.key:
        return fake_http.json_reply(401, {"error": {"message": "Incorrect API key provided"}})
    body = req.json()
    if not isinstance(body, dict) or "model" not in body or not isinstance(body.get("input"), list):
        return fake_http.json_reply(400, {"error": {"message": "bad request"}})
    dim = body.get("dimensions") or a.dim
    data = []
    for i, t in enumerate(body["input"]):
        v = embed(t, dim)
        if a.mode == "wrongdim" and i == 0:
            v = v[:-1]
        if body.get("encoding_format") == "base64":
            e = base64.b64encode(struct.pack("<%df" % len(v), *v)).decode()
        else:
            e = v
        data.append({"object": "embedding", "index": 0 if a.mode == "badindex" else i, "embedding": e})
    reply = {"object": "list", "data": list(reversed(data)), "model": body["model"],
             "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    if a.mode == "nodata":
        del reply["data"]
    return fake_http.json_reply(200, reply)


def args(p):
    p.add_argument("--mode", default="good", choices=["good", "badindex", "wrongdim", "nodata"])
    p.add_argument("--dim", type=int, default=12)
    p.add_argument("--key", default=None, help="require this bearer token")
    p.add_argument("--delay", type=float, default=0, help="seconds before each reply")


if __name__ == "__main__":
    fake_http.main(handle, description="fake OpenAI embeddings", add_args=args)
