#!/usr/bin/python3
"""The ZeroMQ publish benchmark still works and still measures what it says:
bench/publish_bench for 1 s per batch size (1 and 10 events per request) on
its own stack (ingest alone, a sink on classify's port). Checks its JSON:
one line per step with a positive rate and ordered percentiles, nothing
but ACK_OK answered (no back-pressure at this size), a summary per batch
size, and that every event acknowledged OK has its lease toward classify
in Redis (an acknowledgement never runs ahead of durability) and reached
the sink.
Usage: test_publish_bench.py BUILD_DIR (CTest passes it)."""
import json
import os
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build")
    p = subprocess.run([os.path.join(build, "publish_bench"), "--seconds", "1", "--rounds", "1",
                        "--batches", "1,10", "--window", "2"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail(f"publish_bench exited {p.returncode}: {p.stderr[-2000:]}")
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    steps = [l for l in lines if "round" in l]
    summaries = [l for l in lines if l.get("summary")]
    checks = [l for l in lines if l.get("check")]
    if [s["batch"] for s in steps] != [1, 10] or [s["batch"] for s in summaries] != [1, 10]:
        fail(f"steps {steps}, summaries {summaries}")
    for s in steps:
        if s["acked_ok"] <= 0 or s["events_per_s"] <= 0:
            fail(f"nothing acknowledged: {s}")
        if s["retry_later"] != 0 or s["other_acks"] != 0:
            fail(f"answers other than ACK_OK: {s}")
        if not 0 < s["request_p50_ms"] <= s["request_p99_ms"]:
            fail(f"percentiles: {s}")
        if abs(s["events_per_s"] * s["seconds"] - s["acked_ok"]) > 0.01 * s["acked_ok"] + 1:
            fail(f"rate does not match the count: {s}")
    if len(checks) != 1:
        fail(f"no check line: {lines}")
    c = checks[0]
    counted = sum(s["acked_ok"] for s in steps)
    if not counted <= c["acked_ok_total"] == c["leases_recorded"] <= c["sink_received"]:
        fail(f"acknowledged vs durable vs handed on: {c} ({counted} counted in steps)")
    print("ok", steps, c)


if __name__ == "__main__":
    main()
