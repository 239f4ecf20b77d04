#!/usr/bin/env bash
# bench/run.sh: the whole benchmark behind `make bench`, into one folder,
# bench/results/<date>/ (or $BENCH_OUT), every step on fresh private stacks
# (redis-server with AOF everysec) on this machine:
#
#  1. closed loop: `sbctl bench` RUNS times, medians   run-<i>.json, summary.json
#  2. open-loop steps: loadgen --rates BENCH_RATES       loadgen.json
#  3. a burst: loadgen at BENCH_BURST_RATE, x BENCH_BURST_MULT for
#     BENCH_BURST_SECONDS, with BENCH_BURST_PAD_SECONDS of base rate before
#     and after (the issue's "bursts (x10 for 60 s)")     burst.json
#  4. the Redis ceiling and our share of it (bench/ceiling.py, from the
#     summary of step 1, else from loadgen.json)         ceiling.json
#  5. peers (bench/peers/run_peers.py), skipped with a note when BullMQ's
#     node_modules are missing                           peers/
#  6. report.html of all of it, and index.json listing every file.
#
# Usage: bench/run.sh [path/to/sbctl] [RUNS] [EVENTS]
# A step is skipped when its variable is 0 or empty: RUNS=0, BENCH_RATES=,
# BENCH_BURST_SECONDS=0, BENCH_CEILING=0, BENCH_PEERS=0. Variables and their
# defaults are in bench/README.md. A failed step is noted in index.json and
# makes the exit status 1; the later steps and the report still run.
set -uo pipefail
SBCTL=${1:-./build/sbctl}
RUNS=${2:-3}
EVENTS=${3:-100000}
LOADGEN=$(dirname "$SBCTL")/loadgen
RATES=${BENCH_RATES-${LOADGEN_RATES-2000,4000,8000,12000}}
STEP_SECONDS=${BENCH_STEP_SECONDS:-${LOADGEN_SECONDS:-10}}
BURST_RATE=${BENCH_BURST_RATE:-500}
BURST_MULT=${BENCH_BURST_MULT:-10}
BURST_SECONDS=${BENCH_BURST_SECONDS:-60}
BURST_PAD=${BENCH_BURST_PAD_SECONDS:-15}
BURST_DRAIN=${BENCH_BURST_DRAIN_SECONDS:-120}
CEILING=${BENCH_CEILING:-1}
CEILING_REQUESTS=${BENCH_CEILING_REQUESTS:-300000}
PEERS=${BENCH_PEERS:-1}
PEERS_EVENTS=${BENCH_PEERS_EVENTS:-20000}
PEER_EVENTS=${BENCH_PEER_EVENTS:-2000}
PEER_RUNS=${BENCH_PEER_RUNS:-1}
OUT=${BENCH_OUT:-bench/results/$(date -u +%Y-%m-%dT%H%M%SZ)}
PY=/usr/bin/python3
mkdir -p "$OUT"
: > "$OUT/notes.txt"
export LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
status=0

note() { echo "bench: $*" | tee -a "$OUT/notes.txt" >&2; }
failed() { note "$1 failed (exit $2)"; status=1; }

# 1. closed loop
if [ "$RUNS" -gt 0 ]; then
  for i in $(seq 1 "$RUNS"); do
    "$SBCTL" bench --events "$EVENTS" --latency-events $((EVENTS / 4)) > "$OUT/run-$i.json" \
      || failed "sbctl bench run $i" $?
    cat "$OUT/run-$i.json"
  done
  $PY - "$OUT" <<'PY' || failed "closed-loop summary" $?
import json, statistics, sys, glob, os
runs = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "run-*.json"))):
    try:
        runs.append(json.load(open(f)))
    except ValueError:  # a failed run left no JSON (noted above)
        pass
if not runs:
    sys.exit("bench: no sbctl bench run gave figures: no summary")
med = lambda f: statistics.median(f(r) for r in runs)
summary = {
    "runs": len(runs),
    "events_per_run": runs[0]["events"],
    "end_to_end_events_per_s": med(lambda r: r["end_to_end_events_per_s"]),
    "acked_events_per_s": med(lambda r: r["acked_events_per_s"]),
    "redis_commands_per_event": med(lambda r: r["redis_commands_per_event"]),
    "latency_rate_per_s": med(lambda r: r["latency_rate_per_s"]),
    "publish_to_assigned_p50_ms": med(lambda r: r["publish_to_assigned_ms"]["p50"]),
    "publish_to_assigned_p99_ms": med(lambda r: r["publish_to_assigned_ms"]["p99"]),
    "peak_rss_mib": {k: med(lambda r: r["peak_rss_mib"][k]) for k in runs[0]["peak_rss_mib"]},
}
json.dump(summary, open(os.path.join(sys.argv[1], "summary.json"), "w"), indent=1)
print(json.dumps(summary, indent=1))
PY
else
  note "closed loop skipped (RUNS=0)"
fi

# 2. open-loop steps, 3. the burst (loadgen beside sbctl)
if [ -n "$RATES" ]; then
  "$LOADGEN" --rates "$RATES" --duration "$STEP_SECONDS" 2> "$OUT/loadgen.log" | tee "$OUT/loadgen.json" \
    || failed "loadgen steps" $?
else
  note "open-loop steps skipped (BENCH_RATES empty)"
fi
if [ "$BURST_SECONDS" -gt 0 ]; then
  period=$((BURST_SECONDS + 2 * BURST_PAD))
  "$LOADGEN" --rates "$BURST_RATE" --duration "$period" --drain-timeout "$BURST_DRAIN" \
    --burst "${BURST_MULT}x:${BURST_SECONDS}s:every${period}s" 2> "$OUT/burst.log" | tee "$OUT/burst.json" \
    || failed "loadgen burst" $?
else
  note "burst skipped (BENCH_BURST_SECONDS=0)"
fi

# 4. the Redis ceiling, against this run's own figures
if [ "$CEILING" != 0 ]; then
  from=()
  for f in "$OUT/summary.json" "$OUT/loadgen.json"; do
    if [ -s "$f" ]; then from=(--from "$f"); break; fi
  done
  $PY bench/ceiling.py "${from[@]}" --requests "$CEILING_REQUESTS" -o "$OUT/ceiling.json" \
    || failed "ceiling" $?
else
  note "Redis ceiling skipped (BENCH_CEILING=0)"
fi

# 5. peers
if [ "$PEERS" = 0 ]; then
  note "peers skipped (BENCH_PEERS=0)"
elif [ ! -d bench/peers/bullmq/node_modules/bullmq ]; then
  note "peers skipped: bench/peers/bullmq/node_modules is missing (run bench/peers/bullmq/install.sh first)"
else
  $PY bench/peers/run_peers.py --sbctl "$SBCTL" --events "$PEERS_EVENTS" --peer-events "$PEER_EVENTS" \
    --runs "$PEER_RUNS" --out "$OUT/peers" > /dev/null 2> "$OUT/peers.log"
  rc=$?
  if [ "$rc" = 77 ]; then note "peers skipped: no peer could run (see peers.log)"
  elif [ "$rc" != 0 ]; then failed "peers" "$rc"; fi
fi

# 6. the report of everything in $OUT, then the index
inputs=()
for f in "$OUT"/summary.json "$OUT"/run-*.json "$OUT"/loadgen.json "$OUT"/burst.json "$OUT"/ceiling.json \
         "$OUT"/peers/summary.json; do
  [ -s "$f" ] && inputs+=("$f")
done
if [ ${#inputs[@]} -gt 0 ]; then
  $PY bench/report.py -o "$OUT/report.html" "${inputs[@]}" && echo "report: $OUT/report.html" \
    || failed "report" $?
else
  failed "report (no results)" 1
fi
$PY - "$OUT" <<'PY' || failed "index" $?
import json, os, sys, time
out = sys.argv[1]
what = {"summary.json": "closed loop: medians of the sbctl bench runs", "loadgen.json": "open-loop steps (JSON Lines)",
        "burst.json": "open-loop burst (JSON Lines)", "ceiling.json": "Redis ceiling and switchboard's share",
        "report.html": "the report (self-contained HTML)", "notes.txt": "skipped or failed steps",
        "loadgen.log": "loadgen's stderr (steps)", "burst.log": "loadgen's stderr (burst)",
        "peers.log": "run_peers.py's stderr", "peers/summary.json": "peers: medians and ratios"}
files = []
for d, _, names in os.walk(out):
    for n in sorted(names):
        rel = os.path.relpath(os.path.join(d, n), out)
        if rel == "index.json":
            continue
        desc = what.get(rel) or ("sbctl bench run" if rel.startswith("run-") else
                                 "peers: " + n if rel.startswith("peers/") else "")
        files.append({"file": rel, "bytes": os.path.getsize(os.path.join(d, n)), "what": desc})
notes = [l.strip() for l in open(os.path.join(out, "notes.txt")) if l.strip()]
index = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "loadavg_start": [float(x) for x in os.environ.get("LOADAVG_START", "").split()],
         "loadavg_end": [round(x, 2) for x in os.getloadavg()],
         "cores": os.cpu_count(), "notes": notes, "files": sorted(files, key=lambda f: f["file"])}
json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
PY
echo "results: $OUT (index.json)"
exit $status
