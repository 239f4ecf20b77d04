#!/usr/bin/python3
"""tests/bench/test_report_chromium.py: `make bench`'s pipeline on a tiny load,
and its report seen by a real browser.

bench/run.sh (as `make bench` runs it, minus the closed loop and the peers)
runs loadgen for two 2 s steps and a 4 s step with a x10 burst of 2 s on
private stacks, then bench/ceiling.py (redis-benchmark on a private
redis-server) and bench/report.py. Checks:

  - loadgen's per-stage times (stages_ms) are there, one per routed event,
    and ordered; the burst seconds carry about 10x the base rate;
  - the ceiling is measured (5 Redis commands per EVALSHA: the call and its
    four writes) and the share is switchboard's rate over it;
  - index.json lists every file the run wrote;
  - the report has one inline <svg> per expected chart, each titled, and no
    script or external reference; a malformed input is refused with a
    message naming the file, without a traceback;
  - headless Chromium opens the page and takes a screenshot: exit 0, the PNG
    has the requested size and is not blank (decoded here with zlib).

Usage: test_report_chromium.py BUILD_DIR. Exit 77 (skip) only when
/usr/bin/chromium or matplotlib is absent.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import xml.dom.minidom
import zlib

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
PY = "/usr/bin/python3"
WIDTH, HEIGHT = 1280, 2000
RATES, STEP_S, BURST_RATE, BURST_MULT = (100, 200), 2, 50, 10
STAGES = ("publish_to_ingested", "ingested_to_classified", "classified_to_decided", "decided_to_feed")
TITLES = ("Throughput vs offered load", "Latency percentiles vs offered load",
          "Latency over time (p50/p99 per second)", "Latency through a burst (p50/p99 per second)",
          "Per-stage latency breakdown", "Redis ceiling and switchboard's share")
MIN_COLOURS = 64          # a page of charts has hundreds (lines, fills, anti-aliased text)
MIN_INKED = 0.02          # share of pixels that are not the background


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def skip_if_absent():
    if not os.access(CHROMIUM, os.X_OK):
        print("SKIP: %s not installed (Debian package chromium)" % CHROMIUM)
        sys.exit(77)
    if subprocess.run([PY, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        print("SKIP: matplotlib not installed (Debian package python3-matplotlib)")
        sys.exit(77)


def run_bench(build, out):
    env = dict(os.environ, BENCH_OUT=out, BENCH_RATES=",".join(map(str, RATES)), BENCH_STEP_SECONDS=str(STEP_S),
               BENCH_BURST_RATE=str(BURST_RATE), BENCH_BURST_MULT=str(BURST_MULT), BENCH_BURST_SECONDS="2",
               BENCH_BURST_PAD_SECONDS="1", BENCH_BURST_DRAIN_SECONDS="10", BENCH_CEILING_REQUESTS="20000",
               BENCH_PEERS="0")
    p = subprocess.run(["bash", os.path.join(SRC, "bench", "run.sh"), os.path.join(build, "sbctl"), "0"],
                       cwd=SRC, env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail("bench/run.sh exited %d\n%s\n%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))


def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def check_stages(step):
    st = step.get("stages_ms")
    if not st or tuple(st) != STAGES:
        fail("stages_ms: %r" % st)
    for name in STAGES:
        s = st[name]
        if s["count"] != step["with_agent"] or not 0 <= s["p50"] <= s["p99"]:
            fail("stage %s: %r for %d events with an agent" % (name, s, step["with_agent"]))
    # the three stages up to the decision cannot all be slower than the whole
    if sum(st[n]["p50"] for n in STAGES[:3]) > 3 * step["latency_ms"]["p99"] + 1:
        fail("stages %r do not fit publish->assigned %r" % (st, step["latency_ms"]))


def check_loadgen(out):
    steps = lines(os.path.join(out, "loadgen.json"))
    if [s["offered_per_s"] for s in steps] != list(RATES):
        fail("loadgen steps %r" % [s["offered_per_s"] for s in steps])
    for s in steps:
        if s["backlog"] or s["errors"] or s["routed"] != s["sent"]:
            fail("step %r: backlog %d errors %d" % (s["offered_per_s"], s["backlog"], s["errors"]))
        check_stages(s)
    (burst,) = lines(os.path.join(out, "burst.json"))
    check_stages(burst)
    sent = [t["sent"] for t in burst["timeline"]]
    if burst["burst"] != "10x:2s:every4s" or len(sent) != 4:
        fail("burst %r, timeline %r" % (burst["burst"], sent))
    base, peak = sent[0] + sent[3], sent[1] + sent[2]   # the burst sits in seconds 1 and 2
    if not peak > 4 * base or burst["backlog"]:
        fail("burst seconds sent %d vs %d outside it (x%d wanted), backlog %d" % (peak, base, BURST_MULT,
                                                                                 burst["backlog"]))
    return steps


def check_ceiling(out, steps):
    c = json.load(open(os.path.join(out, "ceiling.json")))
    b = c["benchmark"]
    if not 4.5 <= b["commands_per_evalsha"] <= 5.5 or b["evalsha_per_s"] <= 0:
        fail("ceiling benchmark %r" % b)
    sb = c["switchboard"]
    busiest = max((s for s in steps if s["drained"]), key=lambda s: s["e2e_per_s"])
    if sb["end_to_end_events_per_s"] != busiest["e2e_per_s"]:
        fail("ceiling used %r, busiest step %r" % (sb, busiest["e2e_per_s"]))
    want = b["redis_commands_per_s"] / sb["redis_commands_per_event"]
    if abs(c["ceiling_events_per_s"] - want) > 1 or abs(c["share_of_ceiling"] - sb["end_to_end_events_per_s"] / want) > 1e-3:
        fail("ceiling arithmetic: %r" % c)


def check_index(out):
    idx = json.load(open(os.path.join(out, "index.json")))
    listed = {f["file"] for f in idx["files"]}
    on_disk = {os.path.relpath(os.path.join(d, n), out) for d, _, ns in os.walk(out) for n in ns} - {"index.json"}
    if listed != on_disk:
        fail("index.json lists %r, the folder holds %r" % (sorted(listed), sorted(on_disk)))
    for f in ("loadgen.json", "burst.json", "ceiling.json", "report.html"):
        if f not in listed:
            fail("index.json misses %s" % f)


def svg_texts(node):
    if node.nodeType == node.TEXT_NODE:
        return node.data
    return "".join(svg_texts(c) for c in node.childNodes)


def check_page(page):
    text = open(page, encoding="utf-8").read()
    if "<script" in text or re.search(r"https?://(?!www\.w3\.org/2000/svg)", text):
        fail("report: a script or an external reference")
    figures = re.findall(r"<figure class=chart.*?</figure>", text, re.S)
    if len(figures) != len(TITLES):
        fail("report: %d charts, %d wanted" % (len(figures), len(TITLES)))
    seen = []
    for fig in figures:
        svgs = re.findall(r"<svg.*?</svg>", fig, re.S)
        if len(svgs) != 1:
            fail("a chart with %d <svg>" % len(svgs))
        seen.append(svg_texts(xml.dom.minidom.parseString(svgs[0])))
    for title in TITLES:
        if not any(title in s for s in seen):
            fail("no chart titled %r" % title)


def check_refusal(tmp, good):
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"tool": "loadgen", "step": 0\n')
    p = subprocess.run([PY, os.path.join(SRC, "bench", "report.py"), "-o", os.path.join(tmp, "x.html"), good, bad],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 2 or "bad.json: line 1: not JSON" not in p.stderr or "Traceback" in p.stderr:
        fail("malformed input: exit %d, %r" % (p.returncode, p.stderr))
    step = lines(good)[0]
    del step["latency_ms"]["p99"]
    with open(bad, "w") as f:
        f.write(json.dumps(step) + "\n")
    p = subprocess.run([PY, os.path.join(SRC, "bench", "report.py"), bad], capture_output=True, text=True, timeout=60)
    if p.returncode != 2 or "field latency_ms.p99" not in p.stderr or "Traceback" in p.stderr:
        fail("input without latency_ms.p99: exit %d, %r" % (p.returncode, p.stderr))


def png_pixels(path):
    """(width, height, rows of bytes) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("PNG depth %d colour type %d interlace %d: not decoded here" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows = zlib.decompress(b"".join(idat)), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(f, line, prev, bpp)
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def unfilter(f, line, prev, bpp):
    if f == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        for i in range(len(line)):
            line[i] = (line[i] + prev[i]) & 255
    elif f == 3:
        for i in range(len(line)):
            line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
    elif f == 4:
        for i in range(len(line)):
            a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    elif f != 0:
        fail("PNG filter type %d" % f)


def screenshot(tmp, page):
    png = os.path.join(tmp, "report.png")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + os.path.join(tmp, "chromium-profile"), "--screenshot=" + png,
           "--window-size=%d,%d" % (WIDTH, HEIGHT), "file://" + page]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=dict(os.environ, HOME=tmp))
    if p.returncode != 0 or not os.path.exists(png):
        fail("chromium exited %d, screenshot %s\n%s" % (p.returncode, os.path.exists(png), p.stderr[-2000:]))
    w, h, bpp, rows = png_pixels(png)
    if (w, h) != (WIDTH, HEIGHT):
        fail("screenshot is %dx%d, %dx%d requested" % (w, h, WIDTH, HEIGHT))
    colours, inked = set(), 0
    bg = rows[0][:3]
    for r in rows:
        px = [r[i:i + 3] for i in range(0, len(r), bpp)]
        colours.update(px)
        inked += sum(1 for c in px if c != bg)
    share = inked / (w * h)
    if len(colours) < MIN_COLOURS or share < MIN_INKED:
        fail("screenshot looks blank: %d colours, %.1f %% of pixels drawn" % (len(colours), share * 100))
    return len(colours), share


def main():
    skip_if_absent()
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
    with tempfile.TemporaryDirectory(prefix="sb-test-report-") as tmp:
        out = os.path.join(tmp, "results")
        run_bench(build, out)
        steps = check_loadgen(out)
        check_ceiling(out, steps)
        check_index(out)
        page = os.path.join(out, "report.html")
        check_page(page)
        check_refusal(tmp, os.path.join(out, "loadgen.json"))
        colours, share = screenshot(tmp, page)
    print("ok: %d charts, screenshot %dx%d with %d colours, %.0f %% drawn; stages at %d/s: %s"
          % (len(TITLES), WIDTH, HEIGHT, colours, share * 100, RATES[-1], json.dumps(steps[-1]["stages_ms"])))


if __name__ == "__main__":
    main()
