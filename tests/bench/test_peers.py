"""tests/bench/test_peers.py: the peers' runner (bench/peers/run_peers.py) on a
tiny load: sbctl bench, the Celery pipeline and the BullMQ pipeline, each on
its own private redis-server. Checks that each peer took every message
through all five stages exactly once (one feed entry per event id, none
missing, every conversation assigned once and one SLA timer each, counted in
its Redis) and that the JSON carries the ratios switchboard/peer.

  /usr/bin/python3 tests/bench/test_peers.py BUILD_DIR

A peer that cannot run is left out and named (BullMQ: node, npm or the
npm registry missing; Celery: python3-celery/python3-redis missing); exit 77
(skip) when neither can run.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUNNER = os.path.join(ROOT, "bench", "peers", "run_peers.py")
PEER_EVENTS = 300


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    sbctl = os.path.join(build, "sbctl")
    if not os.access(sbctl, os.X_OK):
        fail("%s is not built" % sbctl)
    with tempfile.TemporaryDirectory(prefix="sb-test-peers-") as out:
        cmd = ["/usr/bin/python3", RUNNER, "--events", "2000", "--peer-events", str(PEER_EVENTS),
               "--sbctl", sbctl, "--out", out, "--drain-timeout", "60"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=170)
        sys.stderr.write(p.stderr[-4000:])
        if p.returncode == 77:
            print("SKIP: no peer could run")
            sys.exit(77)
        with open(os.path.join(out, "run-1.json")) as f:
            run = json.load(f)
    systems = run["systems"]
    sb = systems["switchboard"]
    if not sb.get("end_to_end_events_per_s"):
        fail("sbctl bench gave no figures: %s" % sb.get("error", sb))
    ran = []
    for name in ("celery", "bullmq"):
        d = systems[name]
        if not d.get("available"):
            print("note: %s left out: %s" % (name, d.get("reason")))
            continue
        ran.append(name)
        if "error" in d:
            fail("%s: %s" % (name, d["error"]))
        dl, cv = d["delivered"], d["conversations"]
        n = PEER_EVENTS + PEER_EVENTS // 4 + 20   # throughput + latency phase + warm-up
        if dl["expected"] != n or dl["unique"] != n or dl["feed_entries"] != n:
            fail("%s: %d feed entries, %d distinct, %d expected" % (name, dl["feed_entries"], dl["unique"], n))
        if dl["missing"] or dl["duplicates"]:
            fail("%s: %d missing, %d duplicates" % (name, dl["missing"], dl["duplicates"]))
        if cv["assigned"] != cv["expected"] or cv["sla_timers"] != cv["expected"]:
            fail("%s: conversations %s" % (name, cv))
        if not d["exactly_once"]:
            fail("%s: not exactly once: %s" % (name, d))
        r = run["ratios"].get(name)
        if not r or not all(r.get(k, 0) > 0 for k in ("throughput_switchboard_over_peer", "p99_switchboard_over_peer")):
            fail("%s: ratios missing: %s" % (name, run["ratios"]))
        lat = d["enqueue_to_notified_ms"]
        if not 0 < lat["p50"] <= lat["p99"] <= lat["max"]:
            fail("%s: latency not ordered: %s" % (name, lat))
        print("ok %s: %d events through five stages exactly once; switchboard/%s %s"
              % (name, n, name, json.dumps(r)))
    if not ran:
        print("SKIP: neither peer could run")
        sys.exit(77)
    if p.returncode != 0:
        fail("run_peers.py exit %d" % p.returncode)
    print("ok: %s" % ", ".join(ran))


if __name__ == "__main__":
    main()
