#!/usr/bin/env bash
# tests/clients/node/run.sh: the npm `cloudevents` SDK against a running
# stack (driven by tests/integration/test_node_cloudevents.c).
#
#   bash tests/clients/node/run.sh --install      only make node_modules ready
#   bash tests/clients/node/run.sh BASE_URL TENANT
#
# The SDK is a test tool, pinned by package-lock.json and installed here with
# `npm ci` when node_modules is missing or older than the lock file. Exit 77
# (SKIP) when node or npm is missing or npm cannot install (no network);
# otherwise the exit status of post_events.mjs.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for t in node npm; do
  if ! command -v "$t" > /dev/null; then
    echo "SKIP: $t not found (nodejs and npm are needed for the CloudEvents SDK test)"
    exit 77
  fi
done
if [ ! -d "$HERE/node_modules/cloudevents" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  if ! timeout 300 npm ci --prefix "$HERE" --loglevel=error --no-audit --no-fund > "$HERE/.npm-ci.log" 2>&1; then
    echo "SKIP: npm ci failed (no network?); see $HERE/.npm-ci.log"
    exit 77
  fi
fi
[ "${1:-}" = "--install" ] && exit 0
cd "$HERE" && exec node post_events.mjs "$@"
