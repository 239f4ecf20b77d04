#!/usr/bin/python3
"""The load generator and the report still work: bench/loadgen on its own
private stack at a tiny rate for 2 s, its JSON checked for sane figures,
then bench/report.py turns it into an HTML page with inline SVG charts.
Usage: test_loadgen.py BUILD_DIR (CTest passes it)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RATE, DURATION, SLACK = 100.0, 2, 1.3  # Poisson over 2 s: +30 % is > 4 sigma


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check_step(s):
    for k in ("offered_per_s", "sent", "sent_per_s", "acked", "achieved_ack_per_s", "e2e_per_s",
              "latency_ms", "retries", "errors", "backlog", "timeline"):
        if k not in s:
            fail(f"field {k} missing")
    lat = s["latency_ms"]
    if s["offered_per_s"] != RATE or s["sent"] <= 0:
        fail(f"offered {s['offered_per_s']}, sent {s['sent']}")
    if not s["sent_per_s"] <= RATE * SLACK:
        fail(f"sent {s['sent_per_s']}/s for {RATE}/s offered")
    if not 0 < s["achieved_ack_per_s"] <= RATE * SLACK or not 0 < s["e2e_per_s"] <= RATE * SLACK:
        fail(f"acked {s['achieved_ack_per_s']}/s, e2e {s['e2e_per_s']}/s for {RATE}/s offered")
    if s["acked"] != s["sent"] or s["backlog"] != 0 or not s["drained"]:
        fail(f"sent {s['sent']}, acked {s['acked']}, backlog {s['backlog']}")
    if s["errors"] != 0:
        fail(f"{s['errors']} errors")
    if lat["count"] != s["with_agent"] or lat["count"] <= 0:
        fail(f"{lat['count']} latencies for {s['with_agent']} events with an agent")
    if not 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"] * 1.02:
        fail(f"latency percentiles not monotone: {lat}")
    if len(s["timeline"]) != DURATION or sum(t["sent"] for t in s["timeline"]) != s["sent"]:
        fail(f"timeline {s['timeline']}")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "loadgen.json")
        with open(out, "w") as f:
            p = subprocess.run([os.path.join(build, "loadgen"), "--rates", str(int(RATE)),
                                "--duration", str(DURATION), "--drain-timeout", "5"],
                               stdout=f, timeout=40)
        if p.returncode != 0:
            fail(f"loadgen exited {p.returncode}")
        steps = [json.loads(l) for l in open(out) if l.strip()]
        if len(steps) != 1:
            fail(f"{len(steps)} steps")
        check_step(steps[0])
        page = os.path.join(tmp, "report.html")
        subprocess.run(["/usr/bin/python3", os.path.join(SRC, "bench", "report.py"), "-o", page, out],
                       check=True, timeout=20)
        text = open(page).read()
        svgs = re.findall(r"<svg.*?</svg>", text, re.S)
        if len(svgs) < 2 or "<script" in text or "http://" in text.replace("http://www.w3.org/2000/svg", ""):
            fail("report: expected inline SVG charts, no script, no external reference")
        for svg in svgs:
            xml.dom.minidom.parseString(svg)
    print("ok:", json.dumps({k: steps[0][k] for k in ("sent", "achieved_ack_per_s", "e2e_per_s", "latency_ms")}))


if __name__ == "__main__":
    main()
