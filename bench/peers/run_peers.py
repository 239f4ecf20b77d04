#!/usr/bin/python3
"""bench/peers/run_peers.py: switchboard against its peers (issue 7).

In one run, on this machine, one system after the other, each on its own
private redis-server (AOF everysec, no RDB, as sbctl bench):

  switchboard  `sbctl bench --events N --latency-events M` (its own stack)
  celery       bench/peers/celery/pipeline.py: five Celery tasks on five
               queues, one `-P solo` worker process per stage
  bullmq       bench/peers/bullmq/pipeline.mjs: five BullMQ queues, one
               worker process per stage (concurrency 32 by default)

The peers get the same messages as sbctl bench (its text, ids, 4 messages
per customer, customers spread over corpus/tenants.json's tenants) and the
same two phases:

 1. throughput, closed loop: the N events are enqueued as fast as the
    producer goes (BullMQ: addBulk of 100, as sbctl publishes 100 events per
    request; Celery: one apply_async each); end to end = N / (last notify
    effect - first enqueue), the notify effect's time being Redis TIME in
    the script that commits it (bench/peers/lua/notify.lua). Redis commands
    per event from INFO commandstats over the phase (idle polling included,
    as for switchboard).
 2. latency, open loop at half the system's own phase-1 rate: each event is
    stamped with its scheduled enqueue time; enqueue-to-routed (the route
    script's TIME minus the stamp) is the same definition as sbctl bench's
    publish-to-assigned (routing.decided_us - published_us) and is the one
    the p99 ratio uses; enqueue-to-notified (all five stages) is reported
    too. Differences: sbctl bench's publisher goes through ingest's durable
    acknowledgement over ZeroMQ, the peers' producers enqueue straight into
    Redis; switchboard's latency is read from its feed by sbctl, the peers'
    from the feed stream after the phase.

Then every event is checked to have gone through all five stages exactly
once (one feed entry per id, no id missing, conversations assigned once).

  /usr/bin/python3 bench/peers/run_peers.py --events 20000 --runs 3
  ... --systems celery,bullmq --peer-events 5000   (peers only, fewer events)

Writes run-<i>.json and summary.json (medians over runs and the ratios
switchboard/peer of the medians) to bench/results/<date>-peers/ (--out);
prints summary.json. Exit 0 when every system that ran delivered every
event exactly once, 1 otherwise, 77 when no system could run.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sb_ports import free_port  # noqa: E402 (outside the ephemeral ports)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
STAGES = ("ingest", "classify", "route", "sla", "notify")
MSGS_PER_CONV = 4
CAPACITY = 100
WARMUP = 20
GOALS = {"bullmq": 5.0, "celery": 15.0}   # issue 7: switchboard >= 5x BullMQ, >= 15x Celery


def log(*a):
    print("run_peers:", *a, file=sys.stderr, flush=True)


class RedisServer:
    """A private redis-server, AOF everysec, in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sb-peers-redis-")
        self.port = free_port()
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write('bind 127.0.0.1\nport %d\ndir "%s"\nsave ""\nappendonly yes\nappendfsync everysec\n'
                    'protected-mode no\ndaemonize no\nlogfile "%s/redis.log"\n' % (self.port, self.dir, self.dir))
        self.proc = subprocess.Popen(["redis-server", conf])
        self.url = "redis://127.0.0.1:%d/0" % self.port
        import redis
        self.r = redis.Redis(port=self.port, decode_responses=True)
        for _ in range(200):
            try:
                self.r.ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start; see %s/redis.log" % self.dir)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def commands(r):
    return sum(v["calls"] for k, v in r.info("commandstats").items() if k.startswith("cmdstat_"))


def tenants():
    with open(os.path.join(ROOT, "corpus", "tenants.json")) as f:
        return [t["id"] for t in json.load(f)["tenants"]]


def pct(v, q):
    if not v:
        return None
    return v[max(0, min(len(v) - 1, int(-(-q * len(v) // 1)) - 1))]


def lat_summary(us):
    us = sorted(us)
    ms = lambda x: round(x / 1000.0, 3) if x is not None else None
    return {"p50": ms(pct(us, 0.5)), "p99": ms(pct(us, 0.99)), "max": ms(us[-1] if us else None), "count": len(us)}


class Peer:
    """One peer pipeline: five worker processes and a producer command."""

    def __init__(self, name, a):
        self.name, self.a, self.procs = name, a, []
        if name == "celery":
            self.cwd = os.path.join(HERE, "celery")
        else:
            self.cwd = os.path.join(HERE, "bullmq")

    def available(self):
        if self.name == "celery":
            try:
                import celery  # noqa: F401
                import redis  # noqa: F401
                return None
            except ImportError as e:
                return "python3-celery/python3-redis missing (%s)" % e
        p = subprocess.run(["bash", os.path.join(self.cwd, "install.sh")], capture_output=True, text=True)
        return None if p.returncode == 0 else (p.stdout.strip() or "install.sh exit %d" % p.returncode)

    def env(self, url):
        e = dict(os.environ, PEERS_REDIS_URL=url, PEERS_CELERY_PREFETCH=str(self.a.celery_prefetch),
                 PEERS_BULLMQ_CONCURRENCY=str(self.a.bullmq_concurrency))
        e.pop("PYTHONPATH", None)
        return e

    def workers_desc(self):
        if self.name == "celery":
            return "5 processes, one per stage queue: celery worker -P solo, prefetch multiplier %d, acks_late, " \
                   "reject_on_worker_lost, no result backend" % self.a.celery_prefetch
        return "5 node processes, one BullMQ Worker per stage queue, concurrency %d, jobs removed on completion" \
               % self.a.bullmq_concurrency

    def start(self, url, logdir):
        for s in STAGES:
            if self.name == "celery":
                cmd = [PY, "-m", "celery", "-A", "pipeline", "worker", "-Q", s, "-P", "solo", "-n", s + "@%h",
                       "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"]
            else:
                cmd = ["node", "pipeline.mjs", "worker", s]
            out = open(os.path.join(logdir, "%s-%s.log" % (self.name, s)), "w")
            self.procs.append(subprocess.Popen(cmd, cwd=self.cwd, env=self.env(url), stdout=out, stderr=out))

    def produce(self, url, phase, count, rate=0):
        if self.name == "celery":
            cmd = [PY, "pipeline.py", "produce"]
        else:
            cmd = ["node", "pipeline.mjs", "produce"]
        cmd += ["--phase", phase, "--count", str(count), "--rate", str(rate)]
        p = subprocess.run(cmd, cwd=self.cwd, env=self.env(url), capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s producer failed: %s" % (self.name, p.stderr[-2000:]))
        return json.loads(p.stdout.strip().splitlines()[-1])

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


def feed_total(r, ts):
    pipe = r.pipeline(transaction=False)
    for t in ts:
        pipe.xlen("pe:{t:%s}:feed" % t)
    return sum(pipe.execute())


def wait_feed(r, ts, target, timeout_s, peer):
    until = time.time() + timeout_s
    while time.time() < until:
        if feed_total(r, ts) >= target:
            return True
        if any(p.poll() is not None for p in peer.procs):
            raise RuntimeError("%s: a worker exited; see its log" % peer.name)
        time.sleep(0.02)
    return False


def read_feed(r, ts):
    """Every feed entry: {id: [(pub, decided, done), ...]}."""
    out = {}
    for t in ts:
        start = "-"
        while True:
            rows = r.xrange("pe:{t:%s}:feed" % t, min=start, max="+", count=10000)
            for eid, f in rows:
                out.setdefault(f["id"], []).append((int(f["pub"]), int(f["decided"]), int(f["done"])))
            if len(rows) < 10000:
                break
            start = "(" + rows[-1][0]
    return out


def run_peer(name, a, n, m, logdir):
    peer = Peer(name, a)
    why = peer.available()
    if why:
        log("%s unavailable: %s" % (name, why))
        return {"available": False, "reason": why}
    srv = RedisServer()
    r, ts = srv.r, tenants()
    convs = (WARMUP + n + m) // MSGS_PER_CONV + 3
    for t in ts:   # room for every conversation, as sbctl bench's agents
        r.zadd("pe:{t:%s}:agents" % t, {"%s-agent-%02d" % (t, i): 0 for i in range(convs // len(ts) // CAPACITY + 2)})
    res = {"available": True, "workers": peer.workers_desc(), "redis": "AOF everysec, private, same machine"}
    try:
        peer.start(srv.url, logdir)
        peer.produce(srv.url, "w", WARMUP)
        if not wait_feed(r, ts, WARMUP, 120, peer):
            raise RuntimeError("%s: warm-up events did not come through" % name)
        log("%s: throughput phase, %d events" % (name, n))
        c0 = commands(r)
        p1 = peer.produce(srv.url, "t", n)
        if not wait_feed(r, ts, WARMUP + n, a.drain_timeout, peer):
            raise RuntimeError("%s: throughput phase did not drain in %d s" % (name, a.drain_timeout))
        cpe = (commands(r) - c0) / n
        feed = read_feed(r, ts)
        t1 = max(v[0][2] for k, v in feed.items() if k.startswith("t-"))
        eps = n / ((t1 - p1["t0_us"]) / 1e6)
        rate = eps / 2
        log("%s: %.0f events/s end to end; latency phase, %d events at %.0f/s" % (name, eps, m, rate))
        p2 = peer.produce(srv.url, "l", m, rate)
        if not wait_feed(r, ts, WARMUP + n + m, a.drain_timeout, peer):
            raise RuntimeError("%s: latency phase did not drain in %d s" % (name, a.drain_timeout))
        time.sleep(0.2)   # let a (wrong) duplicate show up before counting
        feed = read_feed(r, ts)
        lat = [v[0] for k, v in feed.items() if k.startswith("l-")]
        expected = ["w-%d" % i for i in range(WARMUP)] + ["t-%d" % i for i in range(n)] + ["l-%d" % i for i in range(m)]
        missing = sum(1 for k in expected if k not in feed)
        dups = sum(len(v) - 1 for v in feed.values())
        nconv = sum((c + MSGS_PER_CONV - 1) // MSGS_PER_CONV for c in (WARMUP, n, m))
        assigned = sum(int(s) for t in ts for _, s in r.zrange("pe:{t:%s}:agents" % t, 0, -1, withscores=True))
        timers = sum(r.zcard("pe:{t:%s}:sla" % t) for t in ts)
        res.update({
            "events": n, "end_to_end_events_per_s": round(eps), "acked_events_per_s":
            round(n / ((p1["enqueued_us"] - p1["t0_us"]) / 1e6)), "redis_commands_per_event": round(cpe, 2),
            "latency_events": m, "latency_rate_per_s": round(rate), "send_lag_p99_ms": p2["send_lag_p99_ms"],
            "enqueue_to_routed_ms": lat_summary([d - p for p, d, _ in lat]),
            "enqueue_to_notified_ms": lat_summary([x - p for p, _, x in lat]),
            "delivered": {"expected": len(expected), "feed_entries": sum(len(v) for v in feed.values()),
                          "unique": len(feed), "missing": missing, "duplicates": dups},
            "conversations": {"expected": nconv, "assigned": assigned, "sla_timers": timers},
        })
        res["exactly_once"] = (missing == 0 and dups == 0 and len(feed) == len(expected)
                               and assigned == nconv and timers == nconv)
    except Exception as e:
        log("%s failed: %s" % (name, e))
        res.update({"error": str(e), "exactly_once": False})
    finally:
        peer.stop()
        srv.close()
    return res


def run_switchboard(a, n, m):
    if not os.access(a.sbctl, os.X_OK):
        return {"available": False, "reason": "%s not built" % a.sbctl}
    cmd = [a.sbctl, "bench", "--events", str(n), "--latency-events", str(m)]
    log("switchboard: " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"available": True, "error": p.stderr[-2000:], "exactly_once": False}
    j = json.loads(p.stdout.strip().splitlines()[-1])
    j.update({"available": True, "command": " ".join(cmd)})
    return j


def ratios(sb, peer):
    """switchboard/peer: throughput (higher is better for switchboard) and p99 (lower is)."""
    if not sb.get("end_to_end_events_per_s") or not peer.get("end_to_end_events_per_s"):
        return None
    sp99 = sb["publish_to_assigned_ms"]["p99"]
    r = {"throughput_switchboard_over_peer": round(sb["end_to_end_events_per_s"] / peer["end_to_end_events_per_s"], 2),
         "p99_switchboard_over_peer": round(sp99 / peer["enqueue_to_routed_ms"]["p99"], 4),
         "p99_switchboard_over_peer_notified": round(sp99 / peer["enqueue_to_notified_ms"]["p99"], 4)}
    return r


def with_ratios(doc):
    sysd = doc["systems"]
    doc["ratios"], doc["goals"] = {}, {}
    for p in ("celery", "bullmq"):
        if p in sysd and "switchboard" in sysd:
            r = ratios(sysd["switchboard"], sysd[p])
            if r:
                doc["ratios"][p] = r
                doc["goals"][p] = {"throughput_x_wanted": GOALS[p],
                                   "throughput_met": r["throughput_switchboard_over_peer"] >= GOALS[p],
                                   "p99_equal_or_better": r["p99_switchboard_over_peer"] <= 1.0}
    return doc


METHOD = ("Each system on its own private redis-server (AOF everysec), one after the other, same machine. "
          "Throughput: closed loop, N events enqueued as fast as the producer goes, first enqueue to the last "
          "notify effect (switchboard: to the last routing decision with no lease open, sbctl bench). p99: open "
          "loop at half the system's own throughput, scheduled send to the routing decision (switchboard: "
          "publish_to_assigned; peers: enqueue_to_routed); the *_notified ratio uses the peers' enqueue to "
          "notify effect (two more stages). Switchboard's publisher goes through ingest's durable ack over "
          "ZeroMQ; the peers' producers write to Redis directly. Peers do far less work per stage "
          "(see bench/peers/celery/pipeline.py).")


def one_run(a, i):
    doc = {"run": i, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
           "loadavg_before": os.getloadavg(), "method": METHOD, "systems": {}}
    for s in a.systems:
        if s == "switchboard":
            doc["systems"][s] = run_switchboard(a, a.events, a.events // 4)
        else:
            n = a.peer_events or a.events
            doc["systems"][s] = run_peer(s, a, n, max(1, n // 4), a.logdir)
    doc["loadavg_after"] = os.getloadavg()
    return with_ratios(doc)


def median_doc(runs):
    def med(path, sysd):
        vals = []
        for r in runs:
            v = r["systems"].get(sysd, {})
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                vals.append(v)
        return statistics.median(vals) if vals else None
    out = {"runs": len(runs), "method": METHOD, "systems": {}}
    for s in runs[0]["systems"]:
        d = runs[0]["systems"][s]
        if not d.get("available"):
            out["systems"][s] = d
            continue
        m = {"available": True, "end_to_end_events_per_s": med(["end_to_end_events_per_s"], s),
             "redis_commands_per_event": med(["redis_commands_per_event"], s),
             "latency_rate_per_s": med(["latency_rate_per_s"], s),
             "per_run_end_to_end_events_per_s": [r["systems"][s].get("end_to_end_events_per_s") for r in runs]}
        if s == "switchboard":
            m["events"] = d.get("events")
            m["publish_to_assigned_ms"] = {q: med(["publish_to_assigned_ms", q], s) for q in ("p50", "p99")}
        else:
            m.update({"events": d.get("events"), "workers": d.get("workers"),
                      "enqueue_to_routed_ms": {q: med(["enqueue_to_routed_ms", q], s) for q in ("p50", "p99")},
                      "enqueue_to_notified_ms": {q: med(["enqueue_to_notified_ms", q], s) for q in ("p50", "p99")},
                      "send_lag_p99_ms": med(["send_lag_p99_ms"], s),
                      "exactly_once_every_run": all(r["systems"][s].get("exactly_once") for r in runs)})
        out["systems"][s] = m
    return with_ratios(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20000, help="N for every system (sbctl bench --events)")
    ap.add_argument("--peer-events", type=int, default=0, help="N for the peers when different (default: --events)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--systems", default="switchboard,celery,bullmq")
    ap.add_argument("--sbctl", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--celery-prefetch", type=int, default=16)
    ap.add_argument("--bullmq-concurrency", type=int, default=32)
    ap.add_argument("--drain-timeout", type=int, default=600, help="seconds a phase may take to drain")
    a = ap.parse_args()
    a.systems = [s for s in a.systems.split(",") if s]
    if not a.sbctl:
        cands = [os.path.join(ROOT, "build-hpeers", "sbctl"), os.path.join(ROOT, "build", "sbctl")]
        a.sbctl = next((c for c in cands if os.access(c, os.X_OK)), cands[-1])
    a.out = a.out or os.path.join(ROOT, "bench", "results", time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime()) + "-peers")
    os.makedirs(a.out, exist_ok=True)
    a.logdir = a.out
    runs = []
    for i in range(1, a.runs + 1):
        doc = one_run(a, i)
        doc["command"] = " ".join([PY] + sys.argv)
        with open(os.path.join(a.out, "run-%d.json" % i), "w") as f:
            json.dump(doc, f, indent=1)
        log("run %d: %s" % (i, json.dumps(doc["ratios"])))
        runs.append(doc)
    summary = median_doc(runs)
    summary["command"] = " ".join([PY] + sys.argv)
    summary["out"] = a.out
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    ran = [d for d in runs[0]["systems"].values() if d.get("available")]
    if not ran:
        return 77
    ok = all(r["systems"][s].get("exactly_once", "error" not in r["systems"][s])
             for r in runs for s in r["systems"] if r["systems"][s].get("available"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
