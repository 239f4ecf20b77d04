#!/usr/bin/python3
"""bench/report.py: one self-contained HTML page from benchmark results.

Usage: bench/report.py [-o report.html] [--title T] RESULT.json [RESULT.json ...]

Each input is a file of JSON documents (one per line, or one indented
document): loadgen steps ({"tool": "loadgen", ...}), `sbctl bench` runs and
bench/run.sh summaries (summary.json). The page has inline SVG charts and
tables only: no script, no external file, no network. Standard library only.
"""
import argparse
import html
import json
import math
import os
import sys

W, H = 640, 320                     # chart size in px
ML, MR, MT, MB = 64, 150, 20, 44    # margins: left, right (legend), top, bottom
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def load_docs(path):
    """Every JSON document in a file: a whole-file document or JSON Lines."""
    text = open(path, encoding="utf-8").read()
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + step * 1e-9:
        out.append(round(t, 10))
        t += step
    return out


def fmt(v):
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def line_chart(title, xlabel, ylabel, series, logy=False, diagonal=False):
    """series: [(name, [(x, y), ...], dashed)]; returns an <svg> string."""
    pts = [(x, y) for _, p, _ in series for x, y in p if y is not None and (not logy or y > 0)]
    if not pts:
        return f"<p><em>{html.escape(title)}: no data</em></p>"
    xs = nice_ticks(0, max(x for x, _ in pts))
    if logy:
        lo = math.floor(math.log10(min(y for _, y in pts)))
        hi = math.ceil(math.log10(max(y for _, y in pts)))
        hi = hi if hi > lo else lo + 1
        ys = [10 ** e for e in range(lo, hi + 1)]
        ty = lambda y: MT + (H - MT - MB) * (1 - (math.log10(y) - lo) / (hi - lo))
    else:
        ys = nice_ticks(0, max(y for _, y in pts))
        ty = lambda y: MT + (H - MT - MB) * (1 - (y - ys[0]) / ((ys[-1] - ys[0]) or 1))
    tx = lambda x: ML + (W - ML - MR) * (x - xs[0]) / ((xs[-1] - xs[0]) or 1)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="sans-serif" font-size="11"><title>{html.escape(title)}</title>',
         f'<rect x="{ML}" y="{MT}" width="{W - ML - MR}" height="{H - MT - MB}" fill="#fafafa" stroke="#999"/>']
    for x in xs:
        o.append(f'<line x1="{tx(x):.1f}" y1="{MT}" x2="{tx(x):.1f}" y2="{H - MB}" stroke="#e3e3e3"/>'
                 f'<text x="{tx(x):.1f}" y="{H - MB + 14}" text-anchor="middle">{fmt(x)}</text>')
    for y in ys:
        o.append(f'<line x1="{ML}" y1="{ty(y):.1f}" x2="{W - MR}" y2="{ty(y):.1f}" stroke="#e3e3e3"/>'
                 f'<text x="{ML - 4}" y="{ty(y) + 4:.1f}" text-anchor="end">{fmt(y)}</text>')
    o.append(f'<text x="{(ML + W - MR) / 2}" y="{H - 8}" text-anchor="middle">{html.escape(xlabel)}</text>'
             f'<text transform="translate(14,{(MT + H - MB) / 2}) rotate(-90)" text-anchor="middle">'
             f'{html.escape(ylabel)}</text>')
    if diagonal:
        top = min(xs[-1], ys[-1])
        o.append(f'<line x1="{tx(0):.1f}" y1="{ty(0):.1f}" x2="{tx(top):.1f}" y2="{ty(top):.1f}" '
                 f'stroke="#888" stroke-dasharray="2,3"/>')
    for i, (name, p, dashed) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        p = [(x, y) for x, y in p if y is not None and (not logy or y > 0)]
        d = " ".join(f"{tx(x):.1f},{ty(y):.1f}" for x, y in p)
        dash = ' stroke-dasharray="6,3"' if dashed else ""
        o.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        o.extend(f'<circle cx="{tx(x):.1f}" cy="{ty(y):.1f}" r="2.5" fill="{c}"/>' for x, y in p)
        ly = MT + 14 + 16 * i
        o.append(f'<line x1="{W - MR + 10}" y1="{ly - 4}" x2="{W - MR + 30}" y2="{ly - 4}" stroke="{c}" '
                 f'stroke-width="2"{dash}/><text x="{W - MR + 34}" y="{ly}">{html.escape(name)}</text>')
    o.append("</svg>")
    return "".join(o)


def table(headers, rows):
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in headers)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{b}</table>"


def loadgen_section(name, steps):
    steps = sorted(steps, key=lambda s: s["offered_per_s"])
    off = lambda s: s["offered_per_s"]
    q = lambda k: [(off(s), s["latency_ms"][k]) for s in steps]
    tag = f" ({name})" if name else ""
    out = [line_chart("Latency vs offered rate" + tag, "offered events/s", "publish→assigned ms (log)",
                      [("p50", q("p50"), False), ("p90", q("p90"), False), ("p99", q("p99"), False),
                       ("p99.9", q("p999"), False), ("max", q("max"), True)], logy=True),
           line_chart("Throughput vs offered rate" + tag, "offered events/s", "events/s",
                      [("acked/s", [(off(s), s["achieved_ack_per_s"]) for s in steps], False),
                       ("end to end/s", [(off(s), s["e2e_per_s"]) for s in steps], False),
                       ("sent/s", [(off(s), s["sent_per_s"]) for s in steps], True)], diagonal=True)]
    # every step's seconds one after the other: bursts and backlogs over time
    t0, p50, p99, sent = 0, [], [], []
    for s in sorted(steps, key=lambda s: s["step"]):
        for sec in s.get("timeline", []):
            t = t0 + sec["t_s"]
            sent.append((t, sec["sent"]))
            if sec["count"]:
                p50.append((t, sec["p50_ms"]))
                p99.append((t, sec["p99_ms"]))
        t0 += s["duration_s"]
    out.append(line_chart("Latency over time, by second of schedule" + tag, "seconds (steps back to back)",
                          "ms (log)", [("p50", p50, False), ("p99", p99, False)], logy=True))
    out.append(line_chart("Events sent per second" + tag, "seconds (steps back to back)", "events",
                          [("sent", sent, False)]))
    rows = [[s["step"], s["offered_per_s"], s["sent_per_s"], s["achieved_ack_per_s"], s["e2e_per_s"],
             s["latency_ms"]["p50"], s["latency_ms"]["p90"], s["latency_ms"]["p99"], s["latency_ms"]["p999"],
             s["latency_ms"]["max"], s["send_lag_ms"]["p99"], s["backlog"], s["retries"], s["errors"],
             s.get("burst") or "-", s["schedule"]] for s in sorted(steps, key=lambda s: s["step"])]
    out.append(table(["step", "offered/s", "sent/s", "acked/s", "e2e/s", "p50 ms", "p90 ms", "p99 ms",
                      "p99.9 ms", "max ms", "send lag p99 ms", "backlog", "retries", "errors", "burst",
                      "schedule"], rows))
    return "".join(f"<div class=c>{x}</div>" for x in out)


def bench_section(runs):
    keys = ["end_to_end_events_per_s", "acked_events_per_s", "redis_commands_per_event", "latency_rate_per_s"]
    rows = []
    for name, r in runs:
        lat = r.get("publish_to_assigned_ms", {})
        p50 = r.get("publish_to_assigned_p50_ms", lat.get("p50", "-"))
        p99 = r.get("publish_to_assigned_p99_ms", lat.get("p99", "-"))
        rows.append([name, r.get("runs", 1)] + [r.get(k, "-") for k in keys] + [p50, p99])
    return table(["file", "runs (median of)", "e2e events/s", "acked events/s", "redis cmds/event",
                  "latency at events/s", "p50 ms", "p99 ms"], rows)


CSS = """body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}
.c{display:inline-block;vertical-align:top;margin:0 1em 1em 0}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee}.note{color:#555;font-size:13px}"""


def render(inputs, title):
    loadgen, bench = {}, []
    for path in inputs:
        name = os.path.relpath(path)
        for d in load_docs(path):
            if d.get("tool") == "loadgen":
                loadgen.setdefault(name, []).append(d)
            elif "end_to_end_events_per_s" in d:
                bench.append((name, d))
    body = [f"<h1>{html.escape(title)}</h1>",
            "<p class=note>Latency is publish→assigned (routing.decided_us − the <em>scheduled</em> send time), "
            "so a stall of the publisher counts against the bus. Dashed grey line: achieved = offered. "
            "See bench/README.md for how to read these figures.</p>"]
    for name, steps in loadgen.items():
        body.append(f"<h2>Open-loop load: {html.escape(name)}</h2>")
        body.append(loadgen_section(name if len(loadgen) > 1 else "", steps))
    if bench:
        body.append("<h2>Closed-loop throughput (sbctl bench, bench/run.sh)</h2>" + bench_section(bench))
    if not loadgen and not bench:
        body.append("<p>No results recognised in the inputs.</p>")
    return (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--title", default="switchboard benchmark")
    a = ap.parse_args()
    page = render(a.inputs, a.title)
    if a.output == "-":
        sys.stdout.write(page)
    else:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
