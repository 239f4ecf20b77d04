#!/usr/bin/env bash
# The foundation benchmark: `sbctl bench` RUNS times on a fresh stack each
# time (private redis-server with AOF everysec on this machine), then the
# median of each figure. Raw runs and the summary go to
# bench/results/<date>/. Usage: bench/run.sh [path/to/sbctl] [RUNS] [EVENTS]
set -euo pipefail
SBCTL=${1:-./build/sbctl}
RUNS=${2:-3}
EVENTS=${3:-100000}
OUT=bench/results/$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$OUT"
for i in $(seq 1 "$RUNS"); do
  "$SBCTL" bench --events "$EVENTS" --latency-events $((EVENTS / 4)) | tee "$OUT/run-$i.json"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, statistics, sys, glob, os
runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(sys.argv[1], "run-*.json")))]
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
# Open-loop steps when asked (LOADGEN_RATES=2000,4000,...; loadgen beside sbctl),
# then one HTML page of everything in $OUT.
LOADGEN=$(dirname "$SBCTL")/loadgen
if [ -n "${LOADGEN_RATES:-}" ] && [ -x "$LOADGEN" ]; then
  "$LOADGEN" --rates "$LOADGEN_RATES" --duration "${LOADGEN_SECONDS:-10}" | tee "$OUT/loadgen.json"
fi
/usr/bin/python3 bench/report.py -o "$OUT/report.html" "$OUT"/*.json && echo "report: $OUT/report.html"
