#!/usr/bin/python3
"""A webhook receiver for tests: records every POST and answers as told.

usage: hook_receiver.py PORT

Each path has a mode (default "ok"), set with
  POST /_mode  {"path": "/crm", "mode": "ok" | "fail" | "hang" | "status:404"}
  ok: 200; fail: 500; hang: answer nothing for 60 s; status:N: N.
GET /_received returns every request as a JSON list of
  {"path", "t" (unix s, float), "signature", "event_id", "attempt", "body", "status"}
in arrival order; POST /_reset forgets them. Requests are served in
threads, so a hanging path delays no other.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
MODES = {}
RECEIVED = []
HANG_S = 60


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b"{}"):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                data = json.dumps(RECEIVED).encode()
            self.answer(200, data)
        else:
            self.answer(404)

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_mode":
            m = json.loads(body)
            with LOCK:
                MODES[m["path"]] = m["mode"]
            return self.answer(200)
        if self.path == "/_reset":
            with LOCK:
                RECEIVED.clear()
            return self.answer(200)
        with LOCK:
            mode = MODES.get(self.path, "ok")
        status = 200
        if mode == "fail":
            status = 500
        elif mode.startswith("status:"):
            status = int(mode[7:])
        rec = {"path": self.path, "t": time.time(),
               "signature": self.headers.get("X-Switchboard-Signature", ""),
               "event_id": self.headers.get("X-Switchboard-Event-Id", ""),
               "attempt": int(self.headers.get("X-Switchboard-Attempt") or 0),
               "body": body.decode("utf-8", "replace"),
               "status": 0 if mode == "hang" else status}
        with LOCK:
            RECEIVED.append(rec)
        if mode == "hang":
            time.sleep(HANG_S)
            return
        try:
            self.answer(status)
        except OSError:
            pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
