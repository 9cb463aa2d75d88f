#!/usr/bin/env python3
"""A webhook receiver for the alerting tests: listens on 127.0.0.1 (port 0: any free one,
written to --port-file), appends every POST as one JSON line {"t": unix seconds, "path": ...,
"body": parsed JSON or the raw text} to --out, and answers 200 — or 500 to the first
--fail-first requests, to make the sender retry."""
import argparse
import os
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--fail-first", type=int, default=0)
args = ap.parse_args()
lock = threading.Lock()
seen = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with lock:
            seen["n"] += 1
            failing = seen["n"] <= args.fail_first
            with open(args.out, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path, "body": body,
                                    "answered": 500 if failing else 200}) + "\n")
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))

os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
