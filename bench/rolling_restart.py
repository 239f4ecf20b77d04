#!/usr/bin/python3
"""rolling_restart.py: p50/p99 latency and loss across a rolling restart.

Starts its own redis-server (AOF everysec) and the services wired by hand
on free ports: two replicas of every stage. The stage before lists both of
the next in --next (ZeroMQ PUSH spreads the hand-offs over them); loadgen
publishes through both ingests (--ingest A,B: its DEALER connects to each,
ZMQ_IMMEDIATE, a request unanswered after --resend-ms is sent again, to
whichever ingest is up) and reads both notify feeds (--feed A,B: each event
is published by the one notify that committed it). Then loadgen offers an
open-loop load in two steps of --seconds each at --rate: step 1 is the
baseline; as soon as step 2 starts every process is restarted, stage by
stage, one replica at a time (graceful SIGTERM, wait for the exit, a new
process on the same ports; the next one only once the new process answers
/readyz 200, then --gap seconds more, so each second of the timeline shows
at most one restart).

Reported (one JSON object on stdout, also in bench/results/<date>-rolling/):
- latency_ms of both windows (publish-to-assigned, loadgen's definition:
  read from the feed) and p99_ratio = restart p99 / baseline p99;
- acked events vs Redis's own count of routed messages (sb:{t:T}:stats
  field routed_messages, counted inside route's idempotent commit, before
  and after): lost = acked - routed, duplicated = routed - acked (each
  clamped at 0); open leases and new dead letters at the end;
- the restarts: service, replica, seconds from SIGTERM to the new process
  ready, when (t_s: SIGTERM, ready_t_s: /readyz 200, seconds from the
  start of the restart window's schedule) and the worst second after it
  (highest per-second p99 from the SIGTERM's second to the one after
  ready; the second of an event is its scheduled publish time);
- rolling.timeline: per second of the window, sent, count, p50/p99/max.

  bench/rolling_restart.py [--build build] [--rate 500] [--seconds 30]
                           [--drain 15] [--gap 1] [--only SVC,...]
                           [--out FILE] [--no-save] [--keep-logs]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sb_ports import free_port  # noqa: E402 (outside the ephemeral ports)

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPLICAS = {"ingest": 2, "classify": 2, "route": 2, "sla-timer": 2, "notify": 2}
ORDER = ["ingest", "classify", "route", "sla-timer", "notify"]  # restart order
NEXT = {"ingest": "classify", "classify": "route", "route": "sla-timer", "sla-timer": "notify"}
LEASE_STAGES = ["classify", "route", "sla", "notify"]  # sbctl_stage_names
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30  # a graceful stop drains for at most --drain-timeout-ms (10 s)


def readyz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return r.status == 200
    except Exception:
        return False


class Stack:
    """redis-server and the replicas; every process is ours (killed by pid)."""

    def __init__(self, build, tmp):
        self.build, self.tmp = build, tmp
        self.tenants = os.path.join(SRC, "corpus", "tenants.json")
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}"
        self.procs = {}  # (service, replica) -> Popen
        self.ports = {}  # (service, replica) -> {admin, listen, ...}
        for svc, n in REPLICAS.items():
            for r in range(n):
                self.new_ports(svc, r)
        self.redis = None

    def new_ports(self, svc, r):
        p = {"admin": free_port(), "listen": free_port()}
        if svc == "ingest":
            p.update(http=free_port())
        if svc == "notify":
            p.update(feed=free_port())
        self.ports[(svc, r)] = p
        self.ingest = ",".join(self.endpoint("ingest", k, "listen") for k in range(REPLICAS["ingest"])
                               if ("ingest", k) in self.ports)
        self.feed = ",".join(self.endpoint("notify", k, "feed") for k in range(REPLICAS["notify"])
                             if ("notify", k) in self.ports)

    def endpoint(self, svc, r, port):
        return f"tcp://127.0.0.1:{self.ports[(svc, r)][port]}"

    def start_redis(self):
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", self.tmp,
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=open(os.path.join(self.tmp, "redis.log"), "w"), stderr=subprocess.STDOUT)
        for _ in range(100):
            if self.redis_cli("PING") == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def redis_cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.redis_port)] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def argv(self, svc, r):
        p = self.ports[(svc, r)]
        a = [os.path.join(self.build, "sb-" + svc), "--redis-url", self.redis_url, "--tenants", self.tenants,
             "--admin-port", str(p["admin"]), "--log-level", "warn"]
        if svc == "ingest":  # its ZeroMQ door is "publish"; it has no PULL
            a += ["--http-port", str(p["http"]), "--publish", self.endpoint(svc, r, "listen")]
        else:
            a += ["--listen", f"tcp://127.0.0.1:{p['listen']}"]
        if svc == "notify":
            a += ["--feed", self.endpoint(svc, r, "feed")]
        if svc in NEXT:
            nxt = NEXT[svc]
            a += ["--next", ",".join(f"tcp://127.0.0.1:{self.ports[(nxt, k)]['listen']}"
                                     for k in range(REPLICAS[nxt]))]
        return a

    def spawn(self, svc, r):
        env = dict(os.environ, SB_RULES=os.path.join(SRC, "corpus/rules/default.json"),
                   SB_LEXICONS=os.path.join(SRC, "corpus/lexicons"))
        log = open(os.path.join(self.tmp, f"{svc}-{r}.log"), "a")
        self.procs[(svc, r)] = subprocess.Popen(self.argv(svc, r), env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + READY_TIMEOUT_S
        while not readyz(self.ports[(svc, r)]["admin"]):
            if self.procs[(svc, r)].poll() is not None or time.time() > deadline:
                log.flush()
                with open(log.name, errors="replace") as f:
                    tail = f.read()[-600:]
                raise RuntimeError(f"{svc}-{r} not ready ({log.name}): {tail}")
            time.sleep(0.05)

    def start(self):
        self.start_redis()
        for svc in reversed(ORDER):  # downstream first, as sbctl_stack does
            for r in range(REPLICAS[svc]):
                # free_port() closes the port it found: a test running beside
                # this one may bind it first, and the service exits at once.
                # Nothing names this replica's ports yet (its upstream starts
                # later), so it gets fresh ones, up to three tries.
                for attempt in range(3):
                    try:
                        self.spawn(svc, r)
                        break
                    except RuntimeError as e:
                        if attempt == 2 or self.procs[(svc, r)].poll() is None:
                            raise
                        sys.stderr.write(f"retrying with new ports: {e}\n")
                        self.new_ports(svc, r)

    def restart(self, svc, r):
        """Graceful: SIGTERM, wait for the exit, a new process, its /readyz."""
        t0 = time.time()
        p = self.procs[(svc, r)]
        p.send_signal(signal.SIGTERM)
        try:
            status = p.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            status = "killed"
        stopped = time.time()
        self.spawn(svc, r)
        t1 = time.time()
        return {"service": svc, "replica": r, "exit": status, "stop_s": round(stopped - t0, 3),
                "total_s": round(t1 - t0, 3), "at": t0, "ready_at": t1}

    def stop(self):
        for p in list(self.procs.values()) + ([self.redis] if self.redis else []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in list(self.procs.values()) + ([self.redis] if self.redis else []):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()

    def tenant_ids(self):
        with open(self.tenants) as f:
            return [t["id"] for t in json.load(f)["tenants"]]

    def stats(self):
        """Per field, summed over tenants: sb:{t:T}:stats, and the open
        leases of each stage as inflight_<stage> (ZCARD sb:{t:T}:lease:<stage>,
        as sbctl stats reads them)."""
        out = {}
        for t in self.tenant_ids():
            lines = self.redis_cli("HGETALL", f"sb:{{t:{t}}}:stats").splitlines()
            for k, v in zip(lines[::2], lines[1::2]):
                try:
                    out[k] = out.get(k, 0) + int(v)
                except ValueError:
                    pass
            for stage in LEASE_STAGES:
                n = self.redis_cli("ZCARD", f"sb:{{t:{t}}}:lease:{stage}")
                out["inflight_" + stage] = out.get("inflight_" + stage, 0) + int(n or 0)
        return out

    def settle(self, before, acked, seconds):
        """Waits (at most seconds) until Redis counts acked more routed
        messages than in before and no lease is open, then one more second
        for late duplicates; the stats then."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            s = self.stats()
            open_ = sum(v for k, v in s.items() if k.startswith("inflight"))
            if s.get("routed_messages", 0) - before.get("routed_messages", 0) >= acked and not open_:
                break
            time.sleep(0.5)
        time.sleep(1)
        return self.stats()


def place_restarts(restarts, t0, timeline):
    """Turns each restart's wall-clock times into seconds from the window's
    start (t0) and adds the worst second after it: the highest per-second
    p99 from the second of its SIGTERM to the second after it was ready,
    stopping before the second of the next restart's SIGTERM (never before
    its own first second)."""
    for x in restarts:
        x["t_s"] = round(x.pop("at") - t0, 3)
        x["ready_t_s"] = round(x.pop("ready_at") - t0, 3)
    for i, x in enumerate(restarts):
        first, last = max(int(x["t_s"]), 0), int(x["ready_t_s"]) + 1
        if i + 1 < len(restarts):
            last = max(first, min(last, int(restarts[i + 1]["t_s"]) - 1))
        secs = [t for t in timeline if first <= t["t_s"] <= last]
        worst = max(secs, key=lambda t: t["p99_ms"], default=None)
        x["worst_second"] = {"t_s": worst["t_s"], "p99_ms": worst["p99_ms"], "count": worst["count"]} if worst else None


def run(a):
    tmp = tempfile.mkdtemp(prefix="sb-rolling-")
    st = Stack(a.build, tmp)
    restarts, window = [], {}
    try:
        st.start()
        before = st.stats()
        lg = subprocess.Popen(
            [os.path.join(a.build, "loadgen"), "--ingest", st.ingest, "--feed", st.feed, "--tenants", st.tenants,
             "--rates", f"{a.rate},{a.rate}", "--duration", str(a.seconds), "--drain-timeout", str(a.drain),
             "--resend-ms", str(a.resend_ms)],
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "loadgen.log"), "w"), text=True)
        steps = []

        def roll():
            window["start"] = time.time()
            for svc in [x for x in ORDER if x in a.only]:
                for r in range(REPLICAS[svc]):
                    if restarts:
                        time.sleep(a.gap)
                    restarts.append(st.restart(svc, r))
            window["end"] = time.time()

        roller = None
        for line in lg.stdout:
            steps.append(json.loads(line))
            if len(steps) == 1:  # step 2 has begun: roll now
                window["step2_start"] = time.time()
                roller = threading.Thread(target=roll)
                roller.start()
        lg.wait()
        if roller:
            roller.join()
        if lg.returncode != 0 or len(steps) != 2:
            raise RuntimeError(f"loadgen exited {lg.returncode} with {len(steps)} steps (see {tmp}/loadgen.log)")
        # Let every lease settle (sweeper re-sends of what a restart caught).
        after = st.settle(before, sum(x["acked"] for x in steps), a.drain)
    finally:
        st.stop()
    d = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    acked = sum(s["acked"] for s in steps)
    sent = sum(s["sent"] for s in steps)
    routed = d.get("routed_messages", 0)
    base, roll_ = steps[0]["latency_ms"], steps[1]["latency_ms"]
    timeline = steps[1]["timeline"]
    place_restarts(restarts, steps[1]["t0_unix_ms"] / 1000.0, timeline)
    rep = {
        "rate_per_s": a.rate, "seconds_per_window": a.seconds,
        "replicas": REPLICAS,
        "baseline": {"latency_ms": base, "sent": steps[0]["sent"], "acked": steps[0]["acked"],
                     "feed_backlog": steps[0]["backlog"]},
        "rolling": {"latency_ms": roll_, "sent": steps[1]["sent"], "acked": steps[1]["acked"],
                    "feed_backlog": steps[1]["backlog"],
                    "restart_s": round(window["end"] - window["start"], 3),
                    "worst_second_p99_ms": max((t["p99_ms"] for t in timeline), default=0),
                    "restart_outlasted_window": window["end"] - window["step2_start"] > a.seconds,
                    # loadgen's slowest events of the window and where their time went
                    "slowest": steps[1].get("slowest", []),
                    "stages_ms": steps[1].get("stages_ms", {}),
                    "timeline": timeline},
        "p50_ratio": round(roll_["p50"] / base["p50"], 3) if base["p50"] else None,
        "p99_ratio": round(roll_["p99"] / base["p99"], 3) if base["p99"] else None,
        # unanswered: events never acknowledged, even after loadgen's
        # re-sends (should be 0); never acknowledged, so not a loss
        "sent": sent, "acked": acked, "unanswered": sent - acked,
        # requests loadgen sent again after --resend-ms without a reply (a
        # stopping ingest took them down): acked as duplicates if durable
        "publisher_resent": sum(s.get("resent", 0) for s in steps),
        # events read twice from the two feeds (loadgen counts them once)
        "feed_duplicates": sum(s.get("feed_duplicates", 0) for s in steps),
        # acknowledged but never read on a feed (published while loadgen's
        # SUB was reconnecting to a restarted notify): not in the latency
        "feed_missed": sum(max(s["acked"] - s["routed"], 0) for s in steps),
        "routed_in_redis": routed,
        "lost": max(acked - routed, 0), "duplicated": max(routed - acked, 0),
        "open_leases": sum(v for k, v in after.items() if k.startswith("inflight")),
        "dead_letters": d.get("dead_letters", 0),
        # hand-offs a restart caught, re-sent by a sweeper once their lease
        # expired (--lease-ms): what the worst seconds of the window wait for
        "lease_expired": d.get("lease_expired", 0),
        # hand-offs re-sent by a sweeper (lease expired or released at a stop), per next stage
        "resent": {k[len("resent_"):]: v for k, v in sorted(d.items()) if k.startswith("resent_") and v},
        "restarts": restarts,
    }
    if a.keep_logs:
        rep["logs"] = tmp
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=int, default=30, help="seconds of each window (baseline, rolling)")
    ap.add_argument("--drain", type=int, default=15, help="seconds to wait for stragglers after each step")
    ap.add_argument("--gap", type=float, default=1.0,
                    help="seconds between one restart's /readyz 200 and the next SIGTERM")
    ap.add_argument("--resend-ms", type=int, default=1000,
                    help="loadgen re-sends a request unanswered this long (to another ingest)")
    ap.add_argument("--only", default=",".join(ORDER),
                    help="restart only these services (comma-separated; to find which one hurts)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--keep-logs", action="store_true", help="keep the services' logs (folder in the report)")
    ap.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    a = ap.parse_args()
    a.only = a.only.split(",")
    if not a.only or any(x not in ORDER for x in a.only):
        ap.error(f"--only: services among {','.join(ORDER)}")
    rep = run(a)
    text = json.dumps(rep, indent=1)
    print(text)
    print(f"rolling restart: p50 {rep['baseline']['latency_ms']['p50']} -> {rep['rolling']['latency_ms']['p50']} ms, "
          f"p99 {rep['baseline']['latency_ms']['p99']} -> {rep['rolling']['latency_ms']['p99']} ms "
          f"(x{rep['p99_ratio']}), acked {rep['acked']}, lost {rep['lost']}, duplicated {rep['duplicated']}",
          file=sys.stderr)
    for x in rep["restarts"]:
        w = x["worst_second"] or {}
        print(f"  {x['service']}-{x['replica']}: SIGTERM at {x['t_s']} s, ready {x['ready_t_s']} s, "
              f"worst second after: {w.get('t_s')} p99 {w.get('p99_ms')} ms", file=sys.stderr)
    paths = [a.out] if a.out else []
    if not a.no_save:
        d = os.path.join(SRC, "bench", "results", time.strftime("%Y-%m-%d") + "-rolling")
        os.makedirs(d, exist_ok=True)
        paths.append(os.path.join(d, time.strftime("%H%M%S") + ".json"))
    for p in paths:
        with open(p, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
