#!/usr/bin/python3
"""The hand-off benchmark still works and measures what it says:
bench/handoff_bench.py on a few hundred items, against this same checkout
(--against), two rounds each. Checks its JSON: both versions, every item
committed (the bench fails otherwise), positive medians, the script body's
time within the call's (the body is part of it), one round entry per
round, and the ratio of the two medians; and that a batch of 0 is refused
with a usage error.
Usage: test_handoff_bench.py BUILD_DIR (CTest passes it; unused)."""
import json
import os
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(SRC, "bench", "handoff_bench.py")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    p = subprocess.run(["/usr/bin/python3", BENCH, "--items", "400", "--batch", "50", "--rounds", "2",
                        "--against", SRC], capture_output=True, text=True, timeout=120)
    if p.returncode == 77:
        print("skipped:", p.stderr.strip())
        return 77
    if p.returncode != 0:
        fail(f"handoff_bench exited {p.returncode}: {p.stderr[-2000:]}")
    d = json.loads(p.stdout)
    if set(d["versions"]) != {"this", "against"}:
        fail(f"versions: {list(d['versions'])}")
    for name, v in d["versions"].items():
        m = v["median"]
        if not (m["evalsha_us_per_item"] > 0 and m["body_us_per_item"] > 0):
            fail(f"{name}: medians not positive: {m}")
        for r in v["rounds"]:
            if r["body_us_per_item"] > r["evalsha_us_per_item"]:
                fail(f"{name}: body longer than the whole call: {r}")
        if len(v["rounds"]) != 2:
            fail(f"{name}: {len(v['rounds'])} rounds, want 2")
    ratio = d["ratio_this_to_against"]["evalsha_us_per_item"]
    if not (0.2 < ratio < 5):  # the same scripts: near 1 on a quiet machine
        fail(f"ratio of one checkout to itself: {ratio}")
    bad = subprocess.run(["/usr/bin/python3", BENCH, "--batch", "0"], capture_output=True, text=True, timeout=30)
    if bad.returncode != 2 or "at least 1" not in bad.stderr:
        fail(f"--batch 0: exit {bad.returncode}, {bad.stderr[-300:]}")
    print("handoff_bench:", json.dumps({k: v["median"] for k, v in d["versions"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
