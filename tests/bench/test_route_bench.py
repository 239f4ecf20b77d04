#!/usr/bin/python3
"""The routing benchmark still works and still measures what it says:
bench/route_bench on a small contact centre (300 agents, 10 queues, 20
skills, 3,000 conversations), every strategy. Checks its JSON: one line
per strategy; every conversation decided, and assigned at once (agents
have room the whole run: a conversation left waiting while an agent of its
queue is free would be a routing bug); items = conversations + closes;
positive rates; ordered latency percentiles; Redis commands and script
time per item measured; and Redis memory per waiting conversation within
issue 5's budget of 1 KiB.
Usage: test_route_bench.py BUILD_DIR (CTest passes it)."""
import json
import os
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MESSAGES = 3000


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build")
    p = subprocess.run([os.path.join(build, "route_bench"), "--agents", "300", "--queues", "10",
                        "--skills", "20", "--messages", str(MESSAGES), "--latency", "50"],
                       capture_output=True, text=True, timeout=150)
    if p.returncode != 0:
        fail(f"route_bench exited {p.returncode}: {p.stderr[-2000:]}")
    runs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    names = [r["strategy"] for r in runs]
    if len(set(names)) != len(names) or not {"longest_idle", "least_occupied", "best_skill",
                                               "round_robin", "sticky"} <= set(names):
        fail(f"strategies: {names}")
    for r in runs:
        if r["decisions"] != MESSAGES or r["assigned"] != MESSAGES or r["queued"] != 0:
            fail(f"not every conversation assigned at once: {r}")
        if not MESSAGES < r["items"] <= 2 * MESSAGES:
            fail(f"items are the conversations and their closes: {r}")
        if r["decisions_per_s"] <= 0 or r["items_per_s"] < r["decisions_per_s"]:
            fail(f"rates: {r}")
        lat = r["latency_us"]
        if lat["calls"] != 50 or not 0 < lat["p50"] <= lat["p99"] <= lat["max"]:
            fail(f"latency: {r}")
        if r["redis_commands_per_item"] < 2 or r["redis_script_us_per_item"] <= 0:
            fail(f"Redis work per item not measured: {r}")
        if not (0 < r["redis_bytes_per_agent"] and 0 < r["redis_bytes_per_waiting_conversation"] <= 1024):
            fail(f"memory: {r}")
    print("ok", runs)


if __name__ == "__main__":
    main()
