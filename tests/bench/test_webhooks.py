#!/usr/bin/python3
"""bench/webhooks.py still measures what it claims: one short round of wrk
against every webhook door of a private stack. Every request is a validly
signed delivery in the platform's documented format with a new message id,
so each must be answered 2xx and accepted as new (not a duplicate); a door
that refused or de-duplicated them would make the benchmark's figures
meaningless. Then the same for two doors with --ingest-alone (ingest by
itself, a sink for classify), whose sink must have every accepted event.
Usage: test_webhooks.py BUILD_DIR (CTest passes it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    if shutil.which("wrk") is None:
        print("SKIP: wrk is not installed (make deps)")
        sys.exit(77)
    out = tempfile.mkdtemp(prefix="sb-test-webhooks-")
    run = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "bench", "webhooks.py"),
                          "--sbctl", os.path.join(sys.argv[1], "sbctl"), "--seconds", "1",
                          "--rounds", "1", "--connections", "4", "--per-thread", "4000",
                          "--out", out], cwd=SRC, capture_output=True, text=True, timeout=240)
    print(run.stderr[-3000:])
    if run.returncode != 0:
        fail("webhooks.py exited %d" % run.returncode)
    summary = json.load(open(os.path.join(out, "webhooks.json")))
    targets = summary["targets"]
    for name in ("events", "meta", "wechat_plain", "wechat_safe", "telegram", "line"):
        r = targets[name]["runs"][0]
        if r["requests"] <= 0 or r["non_2xx"] != 0:
            fail("%s: %d requests, %d not 2xx" % (name, r["requests"], r["non_2xx"]))
        if r["wrapped"]:
            fail("%s: the request file wrapped around (duplicates)" % name)
        if r["duplicates"] != 0:
            fail("%s: %d duplicates among distinct messages" % (name, r["duplicates"]))
        # wrk counts completed requests; ingest also accepted the requests in
        # flight when wrk stopped and the simulated agents' events (sbctl up),
        # so more, never fewer
        if not r["requests"] <= r["accepted"]:
            fail("%s: %d requests answered but %d accepted" % (name, r["requests"], r["accepted"]))
        if not 0 < r["p99_ms"] < 10000:
            fail("%s: p99 %.2f ms" % (name, r["p99_ms"]))
    if not summary.get("wechat_safe_cost_ratio_median", 0) > 0:
        fail("no safe/plain ratio")
    shutil.rmtree(out)
    print("ok: %s" % ", ".join("%s %.0f/s" % (k, v["requests_per_s_median"])
                               for k, v in targets.items()))
    ingest_alone(sys.argv[1])


def ingest_alone(build):
    """--ingest-alone: the doors of ingest by itself (publish_bench --hold);
    every request accepted as new, and every accepted event handed on to the
    sink that stands in for classify."""
    out = tempfile.mkdtemp(prefix="sb-test-webhooks-alone-")
    run = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "bench", "webhooks.py"),
                          "--sbctl", os.path.join(build, "sbctl"), "--seconds", "1",
                          "--rounds", "1", "--connections", "4", "--per-thread", "20000",
                          "--targets", "events,meta", "--ingest-alone", "--out", out],
                         cwd=SRC, capture_output=True, text=True, timeout=240)
    print(run.stderr[-3000:])
    if run.returncode != 0:
        fail("webhooks.py --ingest-alone exited %d" % run.returncode)
    summary = json.load(open(os.path.join(out, "webhooks.json")))
    accepted = 0
    for name in ("events", "meta"):
        r = summary["targets"][name]["runs"][0]
        if r["requests"] <= 0 or r["non_2xx"] != 0 or r["duplicates"] != 0 or r["wrapped"]:
            fail("ingest alone, %s: %s" % (name, r))
        if not r["requests"] <= r["accepted"]:
            fail("ingest alone, %s: %d requests answered but %d accepted"
                 % (name, r["requests"], r["accepted"]))
        accepted += r["accepted"]
    if summary.get("bus") != "ingest alone (sink on classify's port)":
        fail("bus: %s" % summary.get("bus"))
    if not (summary.get("sink_received") or 0) >= accepted:
        fail("%s events accepted, %s handed on to the sink" % (accepted, summary.get("sink_received")))
    shutil.rmtree(out)
    print("ok, ingest alone: %s" % ", ".join("%s %.0f/s" % (k, v["requests_per_s_median"])
                                            for k, v in summary["targets"].items()))


if __name__ == "__main__":
    main()
