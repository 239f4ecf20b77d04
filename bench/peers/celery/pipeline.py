"""Celery peer of switchboard's five stages (issue 7: bench/peers).

Five Celery tasks on five queues, ingest -> classify -> route -> sla ->
notify; each task does its stage's durable effect in Redis (one Lua script
from bench/peers/lua/, shared with the BullMQ peer) and then enqueues the
next task. Broker: Redis (the private redis-server of the runner, AOF
everysec), no result backend.

At-least-once: task_acks_late (a message is acknowledged only after the
task returned, i.e. after the next stage's message is in Redis) and
task_reject_on_worker_lost; kombu's Redis transport keeps unacknowledged
messages and restores them after the visibility timeout. Effects are
idempotent by event id (SET NX marks, ZADD NX, a decision stored per event),
so a redelivered message changes nothing twice and a conversation is
assigned once.

Equivalent to switchboard: the durability of every hand-off (Redis with AOF
everysec), one atomic script per stage effect, idempotence by event id,
routing to the least occupied agent with capacity, one timer per
conversation, one feed entry per event. Not equivalent (in the peers'
favour): classify is a two-keyword lookup (switchboard detects language,
PII, sentiment, intent, spikes), routing has no skills, queues or offers,
the SLA timer is only armed (never fired), notify appends to a stream
instead of publishing a protobuf feed and webhooks, and ingest does no
validation, threading or customer linking. A duplicate publish is stored
once but still flows through the later stages (their effects stay once).

  worker: python3 -m celery -A pipeline worker -Q STAGE -P solo ...
          (cwd bench/peers/celery, PEERS_REDIS_URL set)
  load:   python3 pipeline.py produce --phase t --count N [--rate R]
"""
import argparse
import json
import os
import sys
import time

import redis
from celery import Celery

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "..", "lua")
TENANTS = os.path.join(HERE, "..", "..", "..", "corpus", "tenants.json")
STAGES = ("ingest", "classify", "route", "sla", "notify")
TTL_S = 86400
CAPACITY = 100          # per agent, as sbctl bench (BENCH_AGENT_CAPACITY)
MSGS_PER_CONV = 4       # as sbctl bench (BENCH_MSGS_PER_CONV)
TEXT = "Hello, my flight to Lisbon was cancelled and I need to rebook for tomorrow."
URL = os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/0")

app = Celery("peers", broker=URL)
app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=int(os.environ.get("PEERS_CELERY_PREFETCH", "16")),
    task_serializer="json",
    accept_content=["json"],
    task_routes={"peers.%s" % s: {"queue": s} for s in STAGES},
    worker_hijack_root_logger=False,
)

_redis = None
_scripts = {}
_sla_ms = {}


def effects():
    """The worker's own Redis connection and registered scripts (lazy: after fork)."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(URL)
        for s in STAGES:
            with open(os.path.join(LUA, s + ".lua")) as f:
                _scripts[s] = _redis.register_script(f.read())
        with open(TENANTS) as f:
            for t in json.load(f)["tenants"]:
                _sla_ms[t["id"]] = t["sla"]["first_response_ms"]
    return _scripts


def key(ev, what, tail):
    return "pe:{t:%s}:%s:%s" % (ev["tenant"], what, tail)


@app.task(name="peers.ingest")
def ingest(ev):
    effects()["ingest"](keys=[key(ev, "seen", ev["id"]), key(ev, "ev", ev["id"])],
                        args=[json.dumps(ev), TTL_S])
    classify.delay(ev)


@app.task(name="peers.classify")
def classify(ev):
    low = ev["text"].lower()
    intent = "rebooking" if "rebook" in low else "other"
    prio = 2 if "cancel" in low else 3
    effects()["classify"](keys=[key(ev, "cls", ev["id"])], args=["en", intent, prio])
    ev["intent"] = intent
    route.delay(ev)


@app.task(name="peers.route")
def route(ev):
    d = effects()["route"](keys=[key(ev, "conv", ev["customer"]), "pe:{t:%s}:agents" % ev["tenant"],
                                 key(ev, "rt", ev["id"])], args=[CAPACITY])
    if d is None:
        raise RuntimeError("no agent with room for %s" % ev["id"])
    ev["agent"], ev["decided"] = d.decode().split(" ")
    sla.delay(ev)


@app.task(name="peers.sla")
def sla(ev):
    effects()
    due = ev["pub"] // 1000 + _sla_ms.get(ev["tenant"], 60000)
    _scripts["sla"](keys=["pe:{t:%s}:sla" % ev["tenant"]], args=[due, ev["customer"]])
    notify.delay(ev)


@app.task(name="peers.notify")
def notify(ev):
    effects()["notify"](keys=[key(ev, "sent", ev["id"]), "pe:{t:%s}:feed" % ev["tenant"]],
                        args=[ev["id"], ev["pub"], ev["decided"], ev["agent"], TTL_S])


def message(tenants, phase, i, pub_us):
    """The i-th message of a phase, as sbctl bench makes it (4 per customer)."""
    return {"id": "%s-%d" % (phase, i), "tenant": tenants[(i // MSGS_PER_CONV) % len(tenants)],
            "customer": "%s-c%d" % (phase, i // MSGS_PER_CONV), "channel": "whatsapp",
            "text": TEXT, "pub": pub_us}


def produce(argv):
    ap = argparse.ArgumentParser(prog="pipeline.py produce")
    ap.add_argument("--phase", default="t")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0, help="open loop at R/s (0: as fast as possible)")
    a = ap.parse_args(argv)
    with open(TENANTS) as f:
        tenants = [t["id"] for t in json.load(f)["tenants"]]
    t0 = time.time_ns() // 1000
    lag = []
    for i in range(a.count):
        if a.rate > 0:
            due = t0 + int(i / a.rate * 1e6)
            wait = due - time.time_ns() // 1000
            if wait > 0:
                time.sleep(wait / 1e6)
            lag.append(time.time_ns() // 1000 - due)
            pub = due                       # the intended time: no coordinated omission
        else:
            pub = time.time_ns() // 1000
        ingest.apply_async((message(tenants, a.phase, i, pub),))
    t1 = time.time_ns() // 1000
    lag.sort()
    out = {"t0_us": t0, "enqueued_us": t1, "count": a.count,
           "send_lag_p99_ms": lag[int(0.99 * (len(lag) - 1))] / 1000 if lag else 0}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "produce":
        produce(sys.argv[2:])
    else:
        sys.exit("usage: pipeline.py produce --count N [--phase P] [--rate R]")
