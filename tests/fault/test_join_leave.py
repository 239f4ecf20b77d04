#!/usr/bin/python3
"""Replicas join and leave while load flows, found through endpoint files.

A stack wired by hand (bench/rolling_restart.py's Stack): one ingest, two
classify, two route, one sla-timer, one notify. ingest's --next is
@classify.peers and classify's --next is @route.peers (files re-read every
300 ms, as a headless Service's DNS name would be). Every service runs with
--lease-ms 60000, so an event that is only re-sent once its lease expires
waits a minute: the test fails on that, not only on a loss.

While loadgen offers 150 events/s (80 in an ASan build) for 14 s:
  t=3 s  a third route replica starts and is appended to route.peers (join);
  t=6 s  route-0 is removed from route.peers and stopped with SIGTERM
         (a graceful scale-in);
  t=9 s  classify-1 is killed with SIGKILL and removed from classify.peers
         (a crash, then the orchestrator notices).
Asserts: the joiner received hand-offs; classify's connected set ends as
{route-1, route-2}; every acknowledged event was routed exactly once (Redis's
routed_messages = acks); no lease is left open and no dead letter; loadgen's
drain found no backlog; and the slowest event took well under the lease
(so the departed replicas' queued work was re-sent at once, not after
--lease-ms).
Usage: test_join_leave.py BUILD_DIR (CTest passes it)."""
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEASE_MS = 60000
MAX_LATENCY_MS = 20000  # a third of the lease: nothing waited for its expiry
RATE, SECONDS = 150, 14

spec = importlib.util.spec_from_file_location("rolling_restart", os.path.join(SRC, "bench", "rolling_restart.py"))
rr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rr)
# route-2 is the replica that joins later; its ports are reserved now
rr.REPLICAS = {"ingest": 1, "classify": 2, "route": 3, "sla-timer": 1, "notify": 1}
INITIAL = {"ingest": 1, "classify": 2, "route": 2, "sla-timer": 1, "notify": 1}


def fail(msg, tmp=None):
    print("FAIL:", msg)
    if tmp:
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".log"):
                with open(os.path.join(tmp, name), errors="replace") as f:
                    tail = f.read()[-1500:]
                print(f"--- {name}\n{tail}")
    sys.exit(1)


class Stack(rr.Stack):
    def peers_file(self, svc):
        return os.path.join(self.tmp, f"{svc}.peers")

    def write_peers(self, svc, replicas):
        path = self.peers_file(svc)
        with open(path + ".new", "w") as f:
            f.write("# written by test_join_leave.py\n")
            for r in replicas:
                f.write(f"tcp://127.0.0.1:{self.ports[(svc, r)]['listen']}\n")
        os.rename(path + ".new", path)  # a reader never sees half a file

    def argv(self, svc, r):
        a = super().argv(svc, r)
        if svc in rr.NEXT and rr.NEXT[svc] in ("classify", "route"):
            i = a.index("--next")
            a[i + 1] = "@" + self.peers_file(rr.NEXT[svc])
        return a + ["--lease-ms", str(LEASE_MS), "--next-refresh-ms", "300"]

    def start(self):
        self.write_peers("classify", [0, 1])
        self.write_peers("route", [0, 1])
        self.start_redis()
        for svc in reversed(rr.ORDER):
            for r in range(INITIAL[svc]):
                self.spawn(svc, r)


def metric(port, name, labels=""):
    """Sum of the samples of name (whose labels contain labels) on /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = None
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if m and m.group(1) == name and labels in (m.group(2) or ""):
            total = (total or 0) + float(m.group(3))
    return total


def sanitized(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return "SB_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


def main():
    global RATE
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build")
    if sanitized(build):
        RATE = 80  # ASan+UBSan services are several times slower; the churn is the same
    tmp = tempfile.mkdtemp(prefix="sb-joinleave-")
    st = Stack(build, tmp)
    events, errors = [], []
    try:
        st.start()
        before = st.stats()
        lg = subprocess.Popen(
            [os.path.join(build, "loadgen"), "--ingest", st.ingest, "--feed", st.feed, "--tenants", st.tenants,
             "--rates", str(RATE), "--duration", str(SECONDS), "--drain-timeout", "30"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "loadgen.log"), "w"), text=True)

        def churn():
            try:
                t0 = time.time()
                time.sleep(3)
                st.spawn("route", 2)
                st.write_peers("route", [0, 1, 2])
                events.append(("route-2 joined", round(time.time() - t0, 2)))
                time.sleep(max(0, 6 - (time.time() - t0)))
                st.write_peers("route", [1, 2])
                p = st.procs[("route", 0)]
                p.send_signal(signal.SIGTERM)
                events.append(("route-0 stopped, exit", p.wait(30)))
                time.sleep(max(0, 9 - (time.time() - t0)))
                p = st.procs[("classify", 1)]
                p.kill()
                p.wait(10)
                st.write_peers("classify", [0])
                events.append(("classify-1 killed", round(time.time() - t0, 2)))
            except Exception as e:  # reported by the main thread
                errors.append(repr(e))

        th = threading.Thread(target=churn)
        th.start()
        out, _ = lg.communicate(timeout=SECONDS + 90)
        th.join()
        if errors:
            fail(f"churn: {errors}", tmp)
        if lg.returncode != 0:
            fail(f"loadgen exited {lg.returncode}", tmp)
        step = json.loads(out.strip().splitlines()[-1])
        # the joiner took part; classify-0 ended connected to route-1 and route-2
        joined_received = metric(st.ports[("route", 2)]["admin"], "sb_stage_received_total")
        c0 = st.ports[("classify", 0)]["admin"]
        connected = metric(c0, "sb_peers_connected", 'to="route"')
        joined = metric(c0, "sb_peers_joined_total", 'to="route"')
        left = metric(c0, "sb_peers_left_total", 'to="route"')
        lost = metric(st.ports[("ingest", 0)]["admin"], "sb_handoff_receivers_lost_total", 'to="classify"')
        after = st.settle(before, step["acked"], 20)  # late duplicates settle
    finally:
        st.stop()
    routed = after.get("routed_messages", 0) - before.get("routed_messages", 0)
    open_ = sum(v for k, v in after.items() if k.startswith("inflight"))
    dlq = after.get("dead_letters", 0) - before.get("dead_letters", 0)
    lat = step["latency_ms"]
    print(f"churn {events}; sent {step['sent']} acked {step['acked']} routed {routed} backlog {step['backlog']}; "
          f"latency p50 {lat['p50']} p99 {lat['p99']} max {lat['max']} ms; route-2 received {joined_received}; "
          f"classify-0 -> route: connected {connected}, joined {joined}, left {left}; "
          f"ingest saw {lost} classify receiver(s) go")
    if not joined_received:
        fail("the route replica that joined received nothing", tmp)
    if connected != 2 or joined != 3 or left != 1:
        fail(f"classify-0's route peers: connected {connected} (want 2), joined {joined} (3), left {left} (1)", tmp)
    if not lost:
        fail("ingest did not see a classify receiver go (sb_handoff_receivers_lost_total)", tmp)
    if step["acked"] < 0.9 * step["sent"] or step["errors"]:
        fail(f"sent {step['sent']}, acked {step['acked']}, errors {step['errors']}", tmp)
    if routed != step["acked"]:
        fail(f"acked {step['acked']} but routed {routed} (lost or duplicated)", tmp)
    if open_ or dlq:
        fail(f"open leases {open_}, new dead letters {dlq}", tmp)
    if step["backlog"]:
        fail(f"{step['backlog']} events not routed within loadgen's drain", tmp)
    if lat["max"] >= MAX_LATENCY_MS:
        fail(f"slowest event {lat['max']} ms: something waited for its lease ({LEASE_MS} ms)", tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print("OK")


if __name__ == "__main__":
    main()
