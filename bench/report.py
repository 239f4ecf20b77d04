#!/usr/bin/python3
"""bench/report.py: one self-contained HTML page from benchmark results.

Usage: bench/report.py [-o report.html] [--title T] RESULT.json [RESULT.json ...]

Each input is a file of JSON documents (one per line, or one indented
document), of any of these kinds:

  loadgen steps     {"tool": "loadgen", ...}, one per line (bench/loadgen);
                    a file whose steps carry a burst is drawn as a burst
  closed loop       `sbctl bench` runs and bench/run.sh summaries
  peers             bench/peers/run_peers.py summary.json or run-<i>.json
  Redis ceiling     {"tool": "ceiling", ...} (bench/ceiling.py)

Charts are drawn by matplotlib (Agg, Debian python3-matplotlib) and inlined
as SVG with real <text>, so the page is one file: no script, no external
reference, no network. A file that is not JSON, or a document of none of the
kinds above or missing a field a chart needs, stops the report with a
message naming the file, the document and the field (exit 2).
"""
import argparse
import html
import io
import json
import os
import re
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
except ImportError:  # reported in main(), so --help still works
    plt = None

FIGSIZE = (6.6, 3.5)       # inches; the page shows two charts per row at 1280 px
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
STAGE_LABELS = {"publish_to_ingested": "publish→ingested", "ingested_to_classified": "ingested→classified",
                "classified_to_decided": "classified→decided", "decided_to_feed": "decided→feed (notify)"}
PEER_NAMES = {"switchboard": "switchboard", "celery": "Celery", "bullmq": "BullMQ"}

# Chart titles: the test (tests/bench/test_report_chromium.py) looks for them.
T_THROUGHPUT = "Throughput vs offered load"
T_LATENCY = "Latency percentiles vs offered load"
T_TIMELINE = "Latency over time (p50/p99 per second)"
T_BURST = "Latency through a burst (p50/p99 per second)"
T_STAGES = "Per-stage latency breakdown"
T_PEERS = "Peers: switchboard vs Redis job queues"
T_CEILING = "Redis ceiling and switchboard's share"


class InputError(Exception):
    """A malformed input file: the message names the file and what is wrong."""


# --- inputs -----------------------------------------------------------------

def load_docs(path):
    """Every JSON object in a file: a whole-file document (or list) or JSON Lines."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}")
    try:
        doc = json.loads(text)
        docs = doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}: line {n}: not JSON ({e.msg}, column {e.colno})")
    if not docs:
        raise InputError(f"{path}: no JSON document")
    for i, d in enumerate(docs, 1):
        if not isinstance(d, dict):
            raise InputError(f"{path}: document {i} is a JSON {type(d).__name__}, not an object")
    return docs


def need(doc, where, *paths):
    """Each dotted path must lead to a number (or, for timeline, a list)."""
    for p in paths:
        v = doc
        for k in p.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        ok = isinstance(v, list) if p == "timeline" else isinstance(v, (int, float)) and not isinstance(v, bool)
        if not ok:
            raise InputError(f"{where}: field {p} missing or of the wrong type")


def check_loadgen(d, where):
    need(d, where, "step", "duration_s", "offered_per_s", "sent_per_s", "achieved_ack_per_s", "e2e_per_s",
         "backlog", "retries", "errors", "send_lag_ms.p99", "timeline",
         *("latency_ms." + q for q in ("p50", "p90", "p99", "p999", "max")))
    for i, sec in enumerate(d["timeline"]):
        if not isinstance(sec, dict):
            raise InputError(f"{where}: timeline[{i}] is not an object")
        need(sec, f"{where}: timeline[{i}]", "t_s", "sent", "count", "p50_ms", "p99_ms")
    for name, st in (d.get("stages_ms") or {}).items():
        need({"s": st}, f"{where}: stages_ms", f"s.p50", f"s.p99")


def kind_of(d):
    if d.get("tool") == "loadgen":
        return "loadgen"
    if d.get("tool") == "ceiling":
        return "ceiling"
    if isinstance(d.get("systems"), dict) and "ratios" in d:
        return "peers"
    if "end_to_end_events_per_s" in d:
        return "bench"
    return None


def read_inputs(paths):
    """{'loadgen': {file: [steps]}, 'bench': [(file, doc)], 'peers': [...], 'ceiling': [...]}"""
    got = {"loadgen": {}, "bench": [], "peers": [], "ceiling": []}
    for path in paths:
        name = os.path.relpath(path)
        name = path if name.startswith("..") else name
        for i, d in enumerate(load_docs(path), 1):
            where, kind = f"{name}: document {i}", kind_of(d)
            if kind is None:
                raise InputError(f"{where}: none of loadgen step, sbctl bench run or summary, "
                                 "run_peers summary, ceiling")
            if kind == "loadgen":
                check_loadgen(d, where)
                got["loadgen"].setdefault(name, []).append(d)
            elif kind == "ceiling":
                need(d, where, "benchmark.redis_commands_per_s", "benchmark.evalsha_per_s")
                got["ceiling"].append((name, d))
            else:
                got[kind].append((name, d))
    return got


def is_burst(steps):
    return any(s.get("burst") for s in steps)


# --- charts -----------------------------------------------------------------

def figure(title, ncols=1):
    fig, axes = plt.subplots(1, ncols, figsize=(FIGSIZE[0], FIGSIZE[1]), squeeze=False)
    fig.suptitle(title, fontsize=11, fontweight="bold")
    for ax in axes[0]:
        ax.grid(True, which="major", color="#e3e3e3")
        ax.set_axisbelow(True)
    return fig, list(axes[0])


def svg_of(fig):
    """The figure as an inline <svg>: no XML prolog, no metadata, SVG 2 href."""
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    s = buf.getvalue()
    s = s[s.index("<svg"):]
    s = re.sub(r"<metadata>.*?</metadata>", "", s, flags=re.S)
    return s.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("xlink:href", "href")


def chart(title, fig, note=""):
    return f'<figure class=chart data-title="{html.escape(title)}">{svg_of(fig)}<figcaption>{note}</figcaption>' \
           '</figure>'


def log_y(ax):
    """Log scale with plain numbers (not 10^n), at 1-2-5 steps over up to three decades."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if hi <= lo * 1000 else (1.0,)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def positive(points):
    return [(x, y) for x, y in points if isinstance(y, (int, float)) and y > 0]


def plot_series(ax, series):
    for i, (label, pts, style) in enumerate(series):
        pts = positive(pts)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=COLORS[i % len(COLORS)],
                    label=label, markersize=4, linewidth=1.6)


def throughput_chart(steps, tag):
    fig, (ax,) = figure(T_THROUGHPUT + tag)
    off = [s["offered_per_s"] for s in steps]
    plot_series(ax, [("acked/s", [(s["offered_per_s"], s["achieved_ack_per_s"]) for s in steps], "o-"),
                     ("end to end/s", [(s["offered_per_s"], s["e2e_per_s"]) for s in steps], "s-"),
                     ("sent/s", [(s["offered_per_s"], s["sent_per_s"]) for s in steps], "^--")])
    top = max(off) * 1.05
    ax.plot([0, top], [0, top], ":", color="#888", label="achieved = offered")
    ax.set_xlim(0, top)
    ax.set_ylim(0, None)
    ax.set_xlabel("offered events/s")
    ax.set_ylabel("events/s")
    ax.legend(fontsize=8)
    return chart(T_THROUGHPUT + tag, fig, "Points on the dotted diagonal keep up; points below it fall behind.")


def latency_chart(steps, tag):
    fig, (ax,) = figure(T_LATENCY + tag)
    q = lambda k: [(s["offered_per_s"], s["latency_ms"][k]) for s in steps]
    plot_series(ax, [("p50", q("p50"), "o-"), ("p90", q("p90"), "o-"), ("p99", q("p99"), "o-"),
                     ("p99.9", q("p999"), "o-"), ("max", q("max"), "x--")])
    log_y(ax)
    ax.set_xlim(0, max(s["offered_per_s"] for s in steps) * 1.05)
    ax.set_xlabel("offered events/s")
    ax.set_ylabel("publish→assigned ms (log)")
    ax.legend(fontsize=8)
    return chart(T_LATENCY + tag, fig, "Flat lines, then a bend upwards: the bend is the knee.")


def burst_windows(spec, duration_s):
    """(start, end) seconds of each burst in a step, from MULTx:DURs:everyPERs."""
    m = re.fullmatch(r"([\d.]+)x:([\d.]+)s:every([\d.]+)s", spec or "")
    if not m:
        return []
    dur, every = float(m.group(2)), float(m.group(3))
    out, t = [], 0.0
    while t < duration_s:
        start = t + (every - dur) / 2
        if start < duration_s:
            out.append((start, min(start + dur, t + every, duration_s)))
        t += every
    return out


def timeline_chart(steps, tag):
    burst = is_burst(steps)
    title = (T_BURST if burst else T_TIMELINE) + tag
    fig, (ax,) = figure(title)
    right = ax.twinx()
    t0, p50, p99, mx, sent = 0, [], [], [], []
    for s in sorted(steps, key=lambda s: s["step"]):
        for a, b in burst_windows(s.get("burst"), s["duration_s"]):
            right.axvspan(t0 + a, t0 + b, color="#ffd8a8", alpha=0.45, linewidth=0)
        for sec in s["timeline"]:
            t = t0 + sec["t_s"] + 0.5
            sent.append((t, sec["sent"]))
            if sec["count"]:
                p50.append((t, sec["p50_ms"]))
                p99.append((t, sec["p99_ms"]))
                mx.append((t, sec.get("max_ms")))
        t0 += s["duration_s"]
    right.fill_between([p[0] for p in sent], [p[1] for p in sent], step="mid", color="#bbb", alpha=0.35,
                       label="sent/s (right)")
    right.set_ylabel("events sent per second")
    right.set_ylim(0, None)
    plot_series(ax, [("p50", p50, "-"), ("p99", p99, "-"), ("max", mx, ":")])
    ax.set_zorder(right.get_zorder() + 1)
    ax.patch.set_visible(False)
    log_y(ax)
    ax.set_xlabel("seconds of schedule (steps back to back)")
    ax.set_ylabel("publish→assigned ms (log)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    note = ("Shaded: the burst (" + html.escape(steps[0].get("burst", "")) + "). How high p99 climbs during it "
            "and how fast it falls back after it is what a spike costs.") if burst else \
        "Per second of the schedule: where a step starts hurting."
    return chart(title, fig, note)


def stages_chart(labelled_steps):
    """labelled_steps: [(label, step)] with stages_ms."""
    fig, axes = figure(T_STAGES, ncols=2)
    names = list(labelled_steps[0][1]["stages_ms"].keys())
    width = 0.8 / len(labelled_steps)
    for ax, q in zip(axes, ("p50", "p99")):
        for j, (label, s) in enumerate(labelled_steps):
            ys = [max(s["stages_ms"][n][q], 1e-3) if n in s["stages_ms"] else 0 for n in names]
            ax.bar([i + j * width for i in range(len(names))], ys, width, label=label,
                   color=COLORS[j % len(COLORS)])
        ax.set_xticks([i + width * (len(labelled_steps) - 1) / 2 for i in range(len(names))])
        ax.set_xticklabels([STAGE_LABELS.get(n, n) for n in names], rotation=25, ha="right", fontsize=7)
        log_y(ax)
        ax.set_title(q + " ms per stage (log)", fontsize=9)
    axes[0].legend(fontsize=7, title="offered", title_fontsize=7)
    return chart(T_STAGES, fig, "Where publish→assigned goes, from the envelope's own timestamps: "
                 "published_us (scheduled), ingested_us, classified_us, decided_us; the first three stages make "
                 "up publish→assigned, decided→feed (notify's commit and PUB, to loadgen's read) comes after it. "
                 "Per-stage p99s do not add up to the end-to-end p99.")


def peers_chart(doc):
    sysd = {k: v for k, v in doc["systems"].items() if isinstance(v, dict) and v.get("available")}
    fig, (a1, a2) = figure(T_PEERS, ncols=2)
    names = list(sysd)
    labels = [PEER_NAMES.get(n, n) for n in names]
    tput = [sysd[n].get("end_to_end_events_per_s") or 0 for n in names]
    p99 = [((sysd[n].get("publish_to_assigned_ms") or sysd[n].get("enqueue_to_routed_ms") or {}).get("p99") or 0)
           for n in names]
    for ax, ys, title in ((a1, tput, "end-to-end events/s (log)"), (a2, p99, "p99 to routed, ms (log)")):
        bars = ax.bar(labels, [max(y, 1e-3) for y in ys], color=[COLORS[i] for i in range(len(names))])
        for b, y in zip(bars, ys):
            ax.annotate(f"{y:,.0f}" if y >= 10 else f"{y:g}", (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center", va="bottom", fontsize=8)
        log_y(ax)
        low = min([y for y in ys if y > 0] or [1])
        ax.set_ylim(low / 4, max(ys + [1]) * 2)  # room below the smallest bar and above the tallest
        ax.set_title(title, fontsize=9)
    ratios = doc.get("ratios") or {}
    note = "; ".join(f"{PEER_NAMES.get(p, p)}: throughput ×{r.get('throughput_switchboard_over_peer')}, "
                     f"p99 ratio {r.get('p99_switchboard_over_peer')}" for p, r in ratios.items())
    return chart(T_PEERS, fig, "switchboard/peer ratios (throughput above 1 and p99 below 1 favour "
                 "switchboard): " + html.escape(note or "none (a system did not run)"))


def ceiling_chart(doc):
    fig, (ax,) = figure(T_CEILING)
    ceil, sb = doc.get("ceiling_events_per_s"), doc.get("switchboard") or {}
    ours = sb.get("end_to_end_events_per_s")
    rows = [("Redis ceiling", ceil, "#888"), ("60 % goal", (ceil or 0) * doc.get("goal_share", 0.6), "#ffd8a8"),
            ("switchboard e2e", ours, COLORS[0])]
    rows = [(n, v, c) for n, v, c in rows if isinstance(v, (int, float))]
    bars = ax.barh([r[0] for r in rows], [r[1] for r in rows], color=[r[2] for r in rows])
    for b, (_, v, _) in zip(bars, rows):
        ax.annotate(f" {v:,.0f}/s", (b.get_width(), b.get_y() + b.get_height() / 2), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("events/s")
    ax.set_xlim(0, max([r[1] for r in rows] + [1]) * 1.25)
    bm = doc["benchmark"]
    share = doc.get("share_of_ceiling")
    return chart(T_CEILING, fig, html.escape(
        f"redis-benchmark EVALSHA (3 writes + XADD, -P {bm.get('pipeline')}): {bm['evalsha_per_s']:,.0f} calls/s "
        f"= {bm['redis_commands_per_s']:,.0f} Redis commands/s; switchboard spends "
        f"{sb.get('redis_commands_per_event', '?')} commands/event; share of the ceiling: "
        + (f"{share * 100:.0f} % (goal ≥ {doc.get('goal_share', 0.6) * 100:.0f} %)" if share else "n/a")))


# --- tables and page --------------------------------------------------------

def table(headers, rows):
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in headers)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{b}</table>"


def loadgen_table(steps):
    rows = [[s["step"], s["offered_per_s"], s["sent_per_s"], s["achieved_ack_per_s"], s["e2e_per_s"],
             s["latency_ms"]["p50"], s["latency_ms"]["p90"], s["latency_ms"]["p99"], s["latency_ms"]["p999"],
             s["latency_ms"]["max"], s["send_lag_ms"]["p99"], s["backlog"], s["retries"], s["errors"],
             s.get("redis_commands_per_event", "-"), s.get("burst") or "-", s.get("schedule", "-")]
            for s in sorted(steps, key=lambda s: s["step"])]
    return table(["step", "offered/s", "sent/s", "acked/s", "e2e/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
                  "max ms", "send lag p99 ms", "backlog", "retries", "errors", "redis cmds/event", "burst",
                  "schedule"], rows)


def bench_table(runs):
    keys = ["end_to_end_events_per_s", "acked_events_per_s", "redis_commands_per_event", "latency_rate_per_s"]
    rows = []
    for name, r in runs:
        lat = r.get("publish_to_assigned_ms") or {}
        p50 = r.get("publish_to_assigned_p50_ms", lat.get("p50", "-"))
        p99 = r.get("publish_to_assigned_p99_ms", lat.get("p99", "-"))
        rows.append([name, r.get("runs", 1)] + [r.get(k, "-") for k in keys] + [p50, p99])
    return table(["file", "runs (median of)", "e2e events/s", "acked events/s", "redis cmds/event",
                  "latency at events/s", "p50 ms", "p99 ms"], rows)


def stage_label(s, many_files, name):
    label = f"{s['offered_per_s']:g}/s" + (" burst" if s.get("burst") else "")
    return f"{label} ({os.path.basename(name)})" if many_files else label


def loadgen_sections(loadgen):
    out, staged = [], []
    kinds = [is_burst(steps) for steps in loadgen.values()]
    for name, steps in loadgen.items():
        steps = sorted(steps, key=lambda s: s["offered_per_s"])
        # name the file in a title only when two files would draw the same chart
        tag = f" ({os.path.basename(name)})" if kinds.count(is_burst(steps)) > 1 else ""
        charts = [] if is_burst(steps) else [throughput_chart(steps, tag), latency_chart(steps, tag)]
        charts.append(timeline_chart(steps, tag))
        kind = "burst" if is_burst(steps) else "steps"
        out.append(f"<h2>Open-loop load ({kind}): {html.escape(name)}</h2><div class=charts>{''.join(charts)}</div>"
                   + loadgen_table(steps))
        staged += [(stage_label(s, len(loadgen) > 1, name), s) for s in steps
                   if any(st.get("count") for st in (s.get("stages_ms") or {}).values())]
    if staged:
        out.append("<h2>Where the time goes</h2><div class=charts>" + stages_chart(staged) + "</div>")
    return out


def headline(got):
    """The few figures the issue asks about, in one line each."""
    lines = []
    for name, b in got["bench"]:
        if "runs" in b:
            lines.append(f"closed loop ({name}, median of {b['runs']}): {b['end_to_end_events_per_s']} events/s end "
                         f"to end, {b.get('redis_commands_per_event')} Redis commands/event, p99 "
                         f"{b.get('publish_to_assigned_p99_ms')} ms at {b.get('latency_rate_per_s')} events/s")
    for name, c in got["ceiling"]:
        if c.get("share_of_ceiling"):
            lines.append(f"Redis ceiling ({name}): {c['ceiling_events_per_s']:,.0f} events/s; switchboard's share "
                         f"{c['share_of_ceiling'] * 100:.0f} % (goal ≥ {c.get('goal_share', 0.6) * 100:.0f} %)")
    return "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>" if lines else ""


CSS = """body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1em}
figure{margin:0}figure svg{width:100%;height:auto}figcaption{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee}.note{color:#555;font-size:13px}"""


def render(inputs, title):
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.titlesize": 9})
    got = read_inputs(inputs)
    body = [f"<h1>{html.escape(title)}</h1>", headline(got),
            "<p class=note>Latency is publish→assigned (routing.decided_us − the <em>scheduled</em> send time), "
            "so a stall of the publisher counts against the bus. See bench/README.md for how to read each chart."
            "</p>"]
    body += loadgen_sections(got["loadgen"])
    if got["ceiling"]:
        body.append("<h2>Redis ceiling</h2><div class=charts>"
                    + "".join(ceiling_chart(d) for _, d in got["ceiling"]) + "</div>")
    for name, d in got["peers"]:
        body.append(f"<h2>Peers: {html.escape(name)}</h2><div class=charts>{peers_chart(d)}</div>")
    if got["bench"]:
        body.append("<h2>Closed-loop throughput (sbctl bench, bench/run.sh)</h2>" + bench_table(got["bench"]))
    return (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--title", default="switchboard benchmark")
    a = ap.parse_args()
    if plt is None:
        print("report.py: matplotlib is missing (Debian: apt-get install python3-matplotlib; "
              "run with /usr/bin/python3)", file=sys.stderr)
        return 2
    try:
        page = render(a.inputs, a.title)
    except InputError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    if a.output == "-":
        sys.stdout.write(page)
    else:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
