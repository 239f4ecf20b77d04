#!/usr/bin/python3
"""bench/ceiling.py: the Redis ceiling, and switchboard's share of it.

How many events per second could *any* bus built on one Redis reach on this
machine, given the Redis work switchboard spends per event? This script
measures what one private redis-server (AOF everysec, no RDB, free port)
executes when it does nothing but the kind of work an event needs: a Lua
script called by EVALSHA that makes three writes (SET, HSET, ZADD) and one
XADD, pipelined (`redis-benchmark -P 32`). From INFO commandstats it gets
the commands Redis executed per EVALSHA (the call plus the four inside,
counted as switchboard's own figure counts them), hence Redis commands/s.

    ceiling_events_per_s = redis_commands_per_s / switchboard's redis_commands_per_event
    share_of_ceiling     = switchboard's end_to_end_events_per_s / ceiling_events_per_s

switchboard's figures come from the same `make bench` run (--from): a
bench/run.sh summary.json or `sbctl bench` run (preferred), or loadgen JSON
Lines (the busiest drained step). The issue's goal is a share >= 60 %.

Usage: bench/ceiling.py [--from FILE ...] [--requests N] [--pipeline P]
                        [--clients C] [-o ceiling.json]
Prints the JSON document (and writes it with -o). Exit 0 on success, 2 on
a bad input file, 77 when redis-server or redis-benchmark is missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sb_ports import free_port  # noqa: E402 (outside the ephemeral ports)

GOAL_SHARE = 0.60
READY_TIMEOUT_S = 10
# KEYS: the event (string), its conversation (hash), the tenant's timers
# (zset), the tenant's feed (stream), all in one tenant's slot {t:1};
# ARGV: event id, payload, due time. Three writes and an XADD: the shape of
# one stage's durable effect.
SCRIPT = """
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'last', ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', 'id', ARGV[1])
return 1
"""
KEYS = ["ce:{t:1}:ev:__rand_int__", "ce:{t:1}:conv:__rand_int__", "ce:{t:1}:timers", "ce:{t:1}:feed"]
ARGS = ["ev-__rand_int__", "x" * 64, "__rand_int__"]


class InputError(Exception):
    pass


def cli(port, *args):
    p = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("redis-cli %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout.strip()


def start_redis(tmp):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                             "--logfile", os.path.join(tmp, "redis.log")], stdout=subprocess.DEVNULL)
    deadline = time.time() + READY_TIMEOUT_S
    while time.time() < deadline:
        try:
            if cli(port, "PING") == "PONG":
                return proc, port
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not answer PING within %d s" % READY_TIMEOUT_S)


def commandstats(port):
    """{command: calls} from INFO commandstats."""
    out = {}
    for line in cli(port, "INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            fields = dict(kv.split("=", 1) for kv in rest.split(","))
            out[name] = int(fields["calls"])
    return out


def run_benchmark(port, a):
    sha = cli(port, "SCRIPT", "LOAD", SCRIPT)
    before = commandstats(port)
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(a.requests), "-c", str(a.clients), "-P", str(a.pipeline),
           "-r", "1000000", "--csv", "EVALSHA", sha, str(len(KEYS)), *KEYS, *ARGS]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("redis-benchmark exited %d: %s" % (p.returncode, p.stderr.strip()[-300:]))
    rows = [l.split('","') for l in p.stdout.splitlines() if l.startswith('"EVALSHA')]
    if not rows:
        raise RuntimeError("redis-benchmark printed no EVALSHA figure: %r" % p.stdout[-300:])
    rps = float(rows[-1][1].strip('"'))
    after = commandstats(port)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    evalsha = delta.get("evalsha", 0)
    if evalsha <= 0:
        raise RuntimeError("INFO commandstats counted no EVALSHA")
    # every command Redis ran during the benchmark, except the INFO asking
    total = sum(v for k, v in delta.items() if k != "info")
    per_call = total / evalsha
    return {"command": " ".join(cmd[:9] + ["EVALSHA <sha> %d ..." % len(KEYS)]),
            "script": "SET + HSET + ZADD + XADD (MAXLEN ~ 100000), keys in one slot",
            "requests": a.requests, "clients": a.clients, "pipeline": a.pipeline,
            "evalsha_per_s": round(rps, 1), "commands_per_evalsha": round(per_call, 3),
            "redis_commands_per_s": round(rps * per_call, 1)}


def load_docs(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        pass
    docs = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError("%s: line %d: not JSON (%s)" % (path, n, e.msg))
    return docs


def number(d, k):
    v = d.get(k)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


def switchboard_figures(paths):
    """The closed-loop figures when a summary or sbctl bench run is given,
    else the busiest drained loadgen step."""
    best, steps = None, []
    for path in paths:
        for d in load_docs(path):
            if not isinstance(d, dict):
                raise InputError("%s: expected JSON objects, found %s" % (path, type(d).__name__))
            cpe, e2e = number(d, "redis_commands_per_event"), number(d, "end_to_end_events_per_s")
            if d.get("tool") == "loadgen":
                if number(d, "e2e_per_s") and cpe and d.get("drained"):
                    steps.append((d["e2e_per_s"], cpe, path))
            elif cpe and e2e and (best is None or "runs" in d):
                best = {"source": os.path.relpath(path), "redis_commands_per_event": cpe,
                        "end_to_end_events_per_s": e2e, "kind": "sbctl bench (closed loop)"}
    if best is None and steps:
        e2e, cpe, path = max(steps)
        best = {"source": os.path.relpath(path), "redis_commands_per_event": cpe,
                "end_to_end_events_per_s": e2e, "kind": "loadgen (busiest drained open-loop step)"}
    if best is None and paths:
        raise InputError("no redis_commands_per_event with a throughput in %s" % ", ".join(paths))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="inputs", action="append", default=[],
                    help="switchboard figures: run.sh summary.json, sbctl bench JSON or loadgen JSON Lines")
    ap.add_argument("--requests", type=int, default=300000, help="EVALSHA calls (redis-benchmark -n)")
    ap.add_argument("--pipeline", type=int, default=32, help="redis-benchmark -P")
    ap.add_argument("--clients", type=int, default=4, help="redis-benchmark -c")
    ap.add_argument("-o", "--output", default="")
    a = ap.parse_args()
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            print("SKIP: %s not found (Debian packages redis-server, redis-tools)" % tool)
            return 77
    try:
        sb = switchboard_figures(a.inputs)
    except InputError as e:
        print("ceiling.py: %s" % e, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sb-ceiling-") as tmp:
        proc, port = start_redis(tmp)
        try:
            bench = run_benchmark(port, a)
            version = cli(port, "INFO", "server").split("redis_version:")[1].split()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    doc = {"tool": "ceiling", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "loadavg": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count(),
           "redis": {"version": version, "appendonly": "yes", "appendfsync": "everysec"},
           "benchmark": bench, "switchboard": sb, "goal_share": GOAL_SHARE,
           "ceiling_events_per_s": None, "share_of_ceiling": None, "goal_met": None}
    if sb:
        doc["ceiling_events_per_s"] = round(bench["redis_commands_per_s"] / sb["redis_commands_per_event"], 1)
        doc["share_of_ceiling"] = round(sb["end_to_end_events_per_s"] / doc["ceiling_events_per_s"], 4)
        doc["goal_met"] = doc["share_of_ceiling"] >= GOAL_SHARE
    text = json.dumps(doc, indent=1)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
