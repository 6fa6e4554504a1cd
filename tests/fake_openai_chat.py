#!/usr/bin/python3
"""fake_openai_chat.py - a loopback OpenAI-compatible chat-completions server
for pd-validate's LLM review tests (built on fake_http.py: port on the first
line of stdout, --log of every request, --fault/--hang/--close faults).

POST /v1/chat/completions with {"model", "messages": [system, user]} where the
user message is the JSON {"patterns": [{"id": ..., "feature": ...}, ...]}.
The reply's choices[0].message.content depends on --mode:
  good       {"reviews": [...]} one review per pattern, in order
  shuffle    the reviews in reverse order plus one for an unknown id
             (a client matching by position gets every verdict wrong)
  fence      good, inside a ```json fence
  malformed  content that is not JSON
  malformed1 the first request gets content that is not JSON, the others good
  badfield   every other review has actionability_score 11
  missing    the first pattern of each batch has no review
Each review is derived from its pattern: name "Name of <id>", description
"About <feature>", is_meaningful false when the feature mentions "boring".
Requests without "Authorization: Bearer <--key>" get 401 when --key is set.
"""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_http  # noqa: E402


def review(p, bad=False):
    feat = p.get("feature", "")
    return {"id": p["id"], "is_meaningful": "boring" not in feat,
            "actionability_score": 11 if bad else 7,
            "why_it_works": "Viewers look for %s." % feat,
            "best_use_cases": ["tutorial series"], "warnings": ["seasonal"],
            "semantic_category": "instruction", "confidence": 0.8,
            "name": "Name of %s" % p["id"], "description": "About %s" % feat}


_n = 0
_lock = threading.Lock()


def handle(req):
    global _n
    if req.method != "POST" or not req.path.endswith("/chat/completions"):
        return None
    a = fake_http.ARGS
    if a.key and req.headers.get("authorization") != "Bearer " + a.key:
        return fake_http.json_reply(401, {"error": {"message": "bad key"}})
    body = req.json()
    try:
        user = json.loads(body["messages"][-1]["content"])
        pats = user["patterns"]
        model = body["model"]
    except (TypeError, KeyError, ValueError, IndexError):
        return fake_http.json_reply(400, {"error": {"message": "bad request"}})
    mode = a.mode
    with _lock:
        _n += 1
        first = _n == 1
    revs = [review(p, mode == "badfield" and i % 2 == 1) for i, p in enumerate(pats)]
    if mode == "shuffle":
        revs = list(reversed(revs)) + [review({"id": "p-unknown", "feature": "x"})]
    if mode == "missing":
        revs = revs[1:]
    content = json.dumps({"reviews": revs})
    if mode == "fence":
        content = "Here you are:\n```json\n" + content + "\n```\n"
    if mode == "malformed" or (mode == "malformed1" and first):
        content = "{\"reviews\": [ this is not json"
    return fake_http.json_reply(200, {
        "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})


def args(p):
    p.add_argument("--mode", default="good",
                   choices=["good", "shuffle", "fence", "malformed", "malformed1", "badfield",
                            "missing"])
    p.add_argument("--key", default=None, help="require this bearer token")


if __name__ == "__main__":
    fake_http.main(handle, description="fake OpenAI chat completions", add_args=args)
