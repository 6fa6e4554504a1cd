#!/usr/bin/python3
"""fake_http.py - a loopback HTTP server for pd's tests of web services.

pd's commands talk to web services (YouTube Data API, OpenAI-compatible
embeddings and chat completions, Pinecone) through lib/http.c.  Their tests
run the real client code against a server on 127.0.0.1 that speaks the
documented protocol; this module is the common part of such servers: binding,
the port announcement, a request log, scripted faults, and a self-stop.

Every server built on it:
  - binds 127.0.0.1 on a free port and prints the port alone on the first
    line of stdout (flushed), then serves (HTTP/1.1, keep-alive, threads);
  - appends one JSON line per request to --log FILE:
      {"n": 1, "method": "GET", "path": "/v1/x", "query": {"k": ["v"]},
       "headers": {"authorization": "..."}, "body": "...", "status": 200,
       "t": 1700000000.123}
    (header names lower-cased; body as text, cut at 4 KiB);
  - applies scripted faults before the handler sees the request:
      --fault 'REGEX=STATUS[xCOUNT][,retry-after=VALUE]'
          the first COUNT (default 1; 0 = all) requests whose
          "METHOD PATH?QUERY" matches REGEX (re.search) get STATUS with a
          JSON error body {"error": {"code": STATUS, "message": "fault"}}
      --hang 'REGEX=SECONDS'   matching requests sleep that long first
      --close 'REGEX[xCOUNT]'  the first COUNT matching requests get the
                               connection closed without a reply
  - stops by itself after --max-seconds (default 300), and on SIGTERM.

As a script it serves generic routes, for tests of the HTTP layer itself:
  /echo            200, JSON {"method", "path", "query", "headers", "body"}
  /status/N        status N, JSON {"status": N}
  /sleep/S         sleeps S seconds, then 200 {"slept": S}
  /big/N           200 with N bytes of "x"
  anything else    404 {"error": {"code": 404, "message": "no route"}}

As a module (tests/fake_youtube.py is an example):
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fake_http

    def handle(req):                 # req: fake_http.Request
        if req.path == "/v1/embeddings" and req.method == "POST":
            data = req.json()        # parsed body (None if not JSON)
            return fake_http.json_reply(200, {"data": [...]})
        return None                  # None: 404 "no route"

    fake_http.main(handle, description="fake embeddings server",
                   add_args=lambda p: p.add_argument("--dim", type=int, default=8))
    # main() parses sys.argv (the common flags above plus add_args), stores
    # the parsed arguments in fake_http.ARGS, and serves until stopped.

A handler returns (status, headers dict, body bytes) - json_reply builds one
- and may raise fake_http.Hangup to drop the connection without a reply.
Use from a test script (bash):
    python3 tests/fake_http.py --log "$TMP/log" >"$TMP/port" &  srv=$!
    while [ ! -s "$TMP/port" ]; do sleep 0.05; done; port=$(head -n1 "$TMP/port")
    ... ; kill "$srv"
"""

import argparse
import http.server
import json
import re
import signal
import sys
import threading
import time
import urllib.parse

ARGS = None
_lock = threading.Lock()
_count = 0
_log = None


class Hangup(Exception):
    """Raise from a handler to close the connection without a reply."""


class Request:
    def __init__(self, method, path, query, headers, body, raw_target):
        self.method = method
        self.path = path
        self.query = query          # dict: name -> list of values
        self.headers = headers      # dict: lower-case name -> value
        self.body = body            # bytes
        self.target = raw_target    # "PATH?QUERY" as sent

    def arg(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None


def json_reply(status, obj, headers=None):
    body = (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
    h = {"Content-Type": "application/json; charset=UTF-8"}
    if headers:
        h.update(headers)
    return status, h, body


class _Fault:
    def __init__(self, spec):
        m = re.fullmatch(r"(.*?)=(\d+)(?:x(\d+))?(?:,retry-after=(.+))?", spec)
        if not m:
            raise SystemExit("fake_http: bad --fault %r" % spec)
        self.rx = re.compile(m.group(1))
        self.status = int(m.group(2))
        self.left = int(m.group(3)) if m.group(3) is not None else 1
        self.forever = self.left == 0
        self.retry_after = m.group(4)

    def take(self, key):
        with _lock:
            if not self.rx.search(key):
                return False
            if self.forever:
                return True
            if self.left > 0:
                self.left -= 1
                return True
            return False


class _Close:
    def __init__(self, spec):
        m = re.fullmatch(r"(.*?)(?:x(\d+))?", spec)
        self.rx = re.compile(m.group(1))
        self.left = int(m.group(2)) if m.group(2) is not None else 1

    def take(self, key):
        with _lock:
            if self.left > 0 and self.rx.search(key):
                self.left -= 1
                return True
            return False


def _write_log(entry):
    global _count
    with _lock:
        _count += 1
        entry["n"] = _count
        if _log:
            _log.write(json.dumps(entry, sort_keys=True) + "\n")
            _log.flush()


def _make_handler(handle):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake_http/1"

        def log_message(self, fmt, *args):  # quiet: the JSON log is the record
            pass

        def _serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
            u = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            headers = {k.lower(): v for k, v in self.headers.items()}
            req = Request(self.command, u.path, query, headers, body, self.path)
            key = "%s %s" % (self.command, self.path)
            entry = {"method": self.command, "path": u.path, "query": query,
                     "headers": headers, "t": round(time.time(), 3),
                     "body": body[:4096].decode("utf-8", "replace")}
            for rx, secs in ARGS._hangs:
                if rx.search(key):
                    entry["status"] = "hang"
                    _write_log(entry)
                    time.sleep(secs)
                    self.close_connection = True
                    return
            for c in ARGS._closes:
                if c.take(key):
                    entry["status"] = "close"
                    _write_log(entry)
                    self.close_connection = True
                    return
            reply = None
            for f in ARGS._faults:
                if f.take(key):
                    extra = {"Retry-After": f.retry_after} if f.retry_after else None
                    reply = json_reply(f.status, {"error": {"code": f.status,
                                                            "message": "fault"}}, extra)
                    break
            if reply is None:
                try:
                    reply = handle(req)
                except Hangup:
                    entry["status"] = "close"
                    _write_log(entry)
                    self.close_connection = True
                    return
                if reply is None:
                    reply = json_reply(404, {"error": {"code": 404, "message": "no route"}})
            status, h, out = reply
            entry["status"] = status
            _write_log(entry)
            try:
                self.send_response(status)
                for k, v in h.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    return H


def generic(req):
    """The routes served when fake_http.py runs as a script."""
    parts = req.path.strip("/").split("/")
    if parts[0] == "echo":
        return json_reply(200, {"method": req.method, "path": req.path, "query": req.query,
                                "headers": req.headers,
                                "body": req.body.decode("utf-8", "replace")})
    if parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
        return json_reply(int(parts[1]), {"status": int(parts[1])})
    if parts[0] == "sleep" and len(parts) == 2:
        s = float(parts[1])
        time.sleep(s)
        return json_reply(200, {"slept": s})
    if parts[0] == "big" and len(parts) == 2 and parts[1].isdigit():
        return 200, {"Content-Type": "text/plain"}, b"x" * int(parts[1])
    return None


def main(handle, description="fake HTTP server", add_args=None, argv=None):
    global ARGS, _log
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--fault", action="append", default=[],
                   help="REGEX=STATUS[xCOUNT][,retry-after=V]")
    p.add_argument("--hang", action="append", default=[], help="REGEX=SECONDS")
    p.add_argument("--close", action="append", default=[], help="REGEX[xCOUNT]")
    p.add_argument("--max-seconds", type=float, default=300)
    if add_args:
        add_args(p)
    ARGS = p.parse_args(argv)
    ARGS._faults = [_Fault(s) for s in ARGS.fault]
    ARGS._hangs = []
    for s in ARGS.hang:
        rx, _, secs = s.rpartition("=")
        ARGS._hangs.append((re.compile(rx), float(secs)))
    ARGS._closes = [_Close(s) for s in ARGS.close]
    if ARGS.log:
        _log = open(ARGS.log, "a", encoding="utf-8")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(handle))
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    t = threading.Timer(ARGS.max_seconds, lambda: srv.shutdown())
    t.daemon = True
    t.start()
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main(generic)
