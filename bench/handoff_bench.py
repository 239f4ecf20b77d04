#!/usr/bin/python3
"""bench/handoff_bench.py: what one hand-off costs Redis, per item.

Every stage after ingest commits its batches through sb_handoff
(common/prelude.lua): check and clear the input leases, run the stage's
effect, store the enriched envelope, record the next leases. That is the
floor of every stage's Redis time per event. This bench runs the bare
hand-off (common/handoff.lua, the effect of classify and notify minus their
own work) against a private redis-server (AOF everysec, automatic rewrites
off so that they do not land in one variant's rounds), as a stage would:
batches of --batch items with --blob byte envelopes, pipelined, each item
leased beforehand and its envelope stored.

Per round it reports Redis's time per item: EVALSHA's usec from INFO
commandstats (everything Redis does for the call but reading the request
and writing the AOF) and the script body's own (lua_us, prelude.lua's
stats_flush). With --against DIR (another checkout, e.g. a git worktree of
the previous commit) the two versions' scripts run in alternating rounds
on the same server, and the summary gives both medians and their ratio.

Usage: bench/handoff_bench.py [--items N] [--batch N] [--blob BYTES]
                              [--rounds N] [--against DIR]
Prints one JSON object. Exit 0, or 77 when redis-server or python3-redis
is missing.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sb_ports import free_port  # noqa: E402 (outside the ephemeral ports)

try:
    import redis
except ImportError:
    redis = None

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P = "sb:{t:bench}:"
READY_TIMEOUT_S = 10


def script(repo):
    """prelude + handoff.lua of the checkout at repo, named as services do."""
    with open(os.path.join(repo, "common", "prelude.lua")) as f:
        prelude = f.read()
    with open(os.path.join(repo, "common", "handoff.lua")) as f:
        body = f.read()
    return "local SB_SCRIPT = 'handoff'\n" + prelude + "\n" + body


def start(tmp):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                             "--auto-aof-rewrite-percentage", "0", "--logfile", os.path.join(tmp, "redis.log")],
                            stdout=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    deadline = time.time() + READY_TIMEOUT_S
    while time.time() < deadline:
        try:
            if r.ping():
                return proc, r
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not answer PING within %d s" % READY_TIMEOUT_S)


def evalsha_usec(r):
    return r.info("commandstats").get("cmdstat_evalsha", {"usec": 0})["usec"]


def body_usec(r):
    return int(r.hget(P + "stats", "lua_us:handoff") or 0)


def round_(r, sha, items, batch, blob_len):
    """One round: items leased and stored, then committed. Returns (us per
    item in EVALSHA, us per item in the body, items committed)."""
    keys = ["%032x" % random.getrandbits(128) for _ in range(items)]
    blob = os.urandom(blob_len)
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.set(P + "ev:" + k, blob, ex=3600)
    pipe.zadd(P + "lease:in", {k: 1 for k in keys})
    pipe.delete(P + "lease:out")  # the next stage drains it
    pipe.execute()
    e0, b0 = evalsha_usec(r), body_usec(r)
    pipe = r.pipeline(transaction=False)
    for i in range(0, items, batch):
        args = [str(int(time.time() * 1e6)), "9999999999999", "in", "out", "moved", "0", "3600"]
        for k in keys[i:i + batch]:
            args += [k, blob]
        pipe.evalsha(sha, 1, P + "stats", *args)
    committed = 0
    for reply in pipe.execute():
        committed += sum(1 for x in reply if not isinstance(x, int))
    r.delete(*(P + "ev:" + k for k in keys))
    return (evalsha_usec(r) - e0) / items, (body_usec(r) - b0) / items, committed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20000, help="items per round (default 20000)")
    ap.add_argument("--batch", type=int, default=100, help="items per script call (default 100)")
    ap.add_argument("--blob", type=int, default=500, help="envelope bytes (default 500, sbctl bench's median)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per version (default 5)")
    ap.add_argument("--against", metavar="DIR", help="another checkout: its scripts in alternating rounds")
    a = ap.parse_args()
    if redis is None or not shutil.which("redis-server"):
        print("handoff_bench: needs redis-server and python3-redis", file=sys.stderr)
        return 77
    if min(a.items, a.batch, a.blob, a.rounds) < 1:
        ap.error("--items, --batch, --blob and --rounds must be at least 1")
    versions = [("this", HERE)] + ([("against", os.path.abspath(a.against))] if a.against else [])
    tmp = tempfile.mkdtemp(prefix="sb-handoff-bench-")
    proc, r = start(tmp)
    try:
        shas = {name: r.script_load(script(repo)) for name, repo in versions}
        rounds = {name: [] for name, _ in versions}
        for _ in range(a.rounds):
            for name, _ in versions:
                evalsha, body, committed = round_(r, shas[name], a.items, a.batch, a.blob)
                if committed != a.items:
                    raise RuntimeError("%s: %d of %d items committed" % (name, committed, a.items))
                rounds[name].append({"evalsha_us_per_item": round(evalsha, 3), "body_us_per_item": round(body, 3)})
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"items": a.items, "batch": a.batch, "blob_bytes": a.blob, "rounds": a.rounds,
           "redis": "private, AOF everysec, rewrites off", "versions": {}}
    for name, repo in versions:
        med = {k: round(statistics.median(x[k] for x in rounds[name]), 3)
               for k in ("evalsha_us_per_item", "body_us_per_item")}
        out["versions"][name] = {"repo": repo, "median": med, "rounds": rounds[name]}
    if a.against:
        t, o = out["versions"]["this"]["median"], out["versions"]["against"]["median"]
        out["ratio_this_to_against"] = {k: round(t[k] / o[k], 3) if o[k] else None for k in t}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
