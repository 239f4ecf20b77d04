#!/bin/bash
# sb-loadgen: publishes the sample corpus over and over, each pass with fresh
# event ids (an unchanged replay would only produce duplicates), through
# `sbctl publish`. sbctl talks to ingest on 127.0.0.1, so this runs in the
# network namespace of an ingest container (compose: network_mode service:ingest).
#   SB_LOADGEN_CORPUS   JSON Lines of CloudEvents (default: the bundled sample)
#   SB_LOADGEN_PASSES   passes to run, 0 = until stopped (default 0)
#   SB_LOADGEN_PAUSE_S  pause between passes in seconds (default 1)
set -euo pipefail
corpus=${SB_LOADGEN_CORPUS:-/usr/share/switchboard/sample.jsonl}
passes=${SB_LOADGEN_PASSES:-0}
pause=${SB_LOADGEN_PAUSE_S:-1}
run=$(date +%s)-$$
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 0' TERM INT
failed=0
i=0
while [ "$passes" = 0 ] || [ "$i" -lt "$passes" ]; do
  i=$((i + 1))
  sed "s/\"id\":\"/\"id\":\"lg-$run-$i-/" "$corpus" > "$work/pass.jsonl"
  if ! sbctl publish "$work/pass.jsonl"; then
    echo "sb-loadgen: pass $i: not every event was acknowledged" >&2
    failed=$((failed + 1))
  fi
  sleep "$pause"
done
[ "$failed" = 0 ]
