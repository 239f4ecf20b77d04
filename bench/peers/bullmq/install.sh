#!/usr/bin/env bash
# bench/peers/bullmq/install.sh: make node_modules ready for the BullMQ peer
# (a benchmark peer, never a dependency of the product), as
# tests/clients/node/run.sh does: `npm ci` from package-lock.json when
# node_modules is missing or older than the lock file. Exit 77 (SKIP) when
# node or npm is missing or npm cannot install (no network to the registry).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for t in node npm; do
  if ! command -v "$t" > /dev/null; then
    echo "SKIP: $t not found (nodejs and npm are needed for the BullMQ peer)"
    exit 77
  fi
done
if [ ! -d "$HERE/node_modules/bullmq" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  if ! timeout 300 npm ci --prefix "$HERE" --loglevel=error --no-audit --no-fund > "$HERE/.npm-ci.log" 2>&1; then
    echo "SKIP: npm ci failed (no network?); see $HERE/.npm-ci.log"
    exit 77
  fi
fi
exit 0
