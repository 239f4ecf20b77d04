#!/usr/bin/env bash
# tests/deploy/check.sh: offline checks of docker/ (Dockerfile, compose) and
# docker/k8s/ (kustomize overlays, alert rules). No Docker engine and no
# Kubernetes API server are needed.
#
#   bash tests/deploy/check.sh [BUILD_DIR]
#
# BUILD_DIR (default: the current directory, where ctest runs it) holds the
# built binaries; their NEEDED libraries are compared with the runtime stage
# of the Dockerfile. Tools: kubectl (kustomize v4 or later), yamllint,
# promtool (Debian: prometheus), node and npm, docker-compose (optional);
# npm packages pinned in tests/deploy/package-lock.json, installed with
# `npm ci` when node_modules is missing or older than the lock file.
# Each check prints ok/FAIL; negative checks must be rejected; the last line
# counts them.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(cd "${1:-$PWD}" && pwd)
K8S=$ROOT/docker/k8s
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$ROOT" || exit 1

passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; [ -s "$T/out" ] && sed 's/^/      /' "$T/out"; }
skip() { skipped=$((skipped + 1)); echo "skip  $1"; }

# check NAME CMD...: CMD must succeed.
check() {
  local name=$1
  shift
  if "$@" > "$T/out" 2>&1; then ok "$name"; else bad "$name"; fi
}
# reject NAME PATTERN... -- CMD...: CMD must fail, and its output must contain
# every PATTERN (fixed strings), so that it fails for the intended reason.
reject() {
  local name=$1 p patterns=()
  shift
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  if "$@" > "$T/out" 2>&1; then
    bad "$name (accepted, must be rejected)"
    return
  fi
  for p in "${patterns[@]}"; do
    if ! grep -qF -- "$p" "$T/out"; then
      bad "$name (rejected, but without: $p)"
      return
    fi
  done
  ok "$name (rejected)"
}

need() { # need TOOL HINT
  if ! command -v "$1" > /dev/null; then
    echo "FAIL  $1 not found: $2" | tee "$T/out"
    failed=$((failed + 1))
    return 1
  fi
}

# ---- tools ---------------------------------------------------------------------
# kubectl (kustomize v4+) and npm are not in Debian 12 in a usable form: where
# the machine lacks them the whole check is SKIPPED (exit 77, CTest's skip
# code), said loudly, rather than failing `make test` on plain Debian.
for t in kubectl npm; do
  if ! command -v "$t" > /dev/null; then
    echo "SKIP  deploy checks: $t not found (kubectl with kustomize v4+ and npm come with the machine image, not with Debian 12)"
    exit 77
  fi
done
tools=1
need kubectl "the machine image provides kubectl (kustomize v5); Debian 12's kubernetes-client (1.20, kustomize v2.0.3) is too old for these kustomizations" || tools=0
need yamllint "apt-get install yamllint (deps/debian-packages.txt)" || tools=0
need promtool "apt-get install prometheus (deps/debian-packages.txt)" || tools=0
need node "apt-get install nodejs (deps/debian-packages.txt)" || tools=0
need npm "npm comes with the machine's nodejs; on plain Debian: apt-get install npm" || tools=0
[ "$tools" = 1 ] || { echo "deploy: $passed passed, $failed failed"; exit 1; }

kv=$(kubectl version --client -o json 2> /dev/null | sed -n 's/.*"kustomizeVersion": *"v\{0,1\}\([0-9]*\)\..*/\1/p')
if [ -z "$kv" ] || [ "$kv" -lt 4 ]; then
  : > "$T/out"
  bad "kubectl's kustomize is ${kv:-missing}: v4 or later is needed ($(kubectl version --client 2>&1 | head -1))"
  echo "deploy: $passed passed, $failed failed"
  exit 1
fi

# npm packages: installed once (network), then reused.
(
  exec 9< "$HERE/package-lock.json"
  flock 9
  if [ ! -f "$HERE/node_modules/.package-lock.json" ] ||
    [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$HERE" --loglevel=error --no-audit --no-fund
  fi
) > "$T/out" 2>&1 && ok "npm ci (tests/deploy, pinned by package-lock.json)" || {
  bad "npm ci (tests/deploy)"
  echo "deploy: $passed passed, $failed failed"
  exit 1
}
VALIDATE=(node "$HERE/validate.mjs")

# ---- Kubernetes ------------------------------------------------------------------
check "docker/k8s/base/tenants.json equals corpus/tenants.json (after a change: cp corpus/tenants.json docker/k8s/base/)" cmp corpus/tenants.json "$K8S/base/tenants.json"
check "yamllint docker/ and tests/deploy/" \
  yamllint -f parsable -c "$HERE/yamllint.yaml" docker/compose.yaml "$K8S" "$HERE/fixtures" "$HERE/yamllint.yaml" \
  "$HERE/.dockerfilelintrc"

render() { # render OVERLAY: kubectl kustomize, nothing on stderr (no deprecation warnings)
  kubectl kustomize "$K8S/overlays/$1" > "$T/$1.yaml" 2> "$T/$1.err" && ! [ -s "$T/$1.err" ] ||
    { cat "$T/$1.err"; return 1; }
}
for overlay in dev production; do
  check "kubectl kustomize overlays/$overlay" render "$overlay"
done
check "validate overlays/dev: schemas, unknown fields, switchboard rules" \
  "${VALIDATE[@]}" k8s "$T/dev.yaml"
# production: the Secrets sb-redis and sb-curve are created out of band (see its kustomization)
check "validate overlays/production: schemas, unknown fields, KEDA 2.12, switchboard rules" \
  "${VALIDATE[@]}" k8s --external-secret sb-redis --external-secret sb-curve "$T/production.yaml"

reject "negative: misspelled fields in tests/deploy/fixtures/misspelled.yaml" \
  "unknown field spec.template.spec.containers[0].livenesProbe" "env SB_REDIS_ULR" \
  "unknown field spec.minReplicaCont" "metadata.serverAdress is not a KEDA 2.12 prometheus parameter" -- \
  "${VALIDATE[@]}" k8s "$HERE/fixtures/misspelled.yaml"
# The same typos in the real production rendering (first occurrence each).
sed -e '0,/livenessProbe:/s//livenesProbe:/' -e '0,/name: SB_NEXT$/s//name: SB_NXT/' \
  -e '0,/minReplicaCount:/s//minReplicaCont:/' -e '0,/serverAddress:/s//serverAdress:/' \
  -e '0,/targetPort: http$/s//targetPrt: http/' "$T/production.yaml" > "$T/production-typos.yaml"
reject "negative: misspelled fields in the production rendering" \
  "containers[0].livenesProbe" "env SB_NXT" "spec.minReplicaCont" "metadata.serverAdress" \
  "spec.ports[0].targetPrt" -- \
  "${VALIDATE[@]}" k8s --external-secret sb-redis --external-secret sb-curve "$T/production-typos.yaml"
# Drain longer than the grace period allows.
sed 's/value: "10000"/value: "30000"/' "$T/dev.yaml" > "$T/dev-drain.yaml"
reject "negative: SB_DRAIN_TIMEOUT_MS beyond terminationGracePeriodSeconds" \
  "terminationGracePeriodSeconds 20 must be preStop 5 s + drain 30 s" -- \
  "${VALIDATE[@]}" k8s "$T/dev-drain.yaml"
reject "negative: the production rendering without its external Secret" "no Secret sb-redis" -- \
  "${VALIDATE[@]}" k8s "$T/production.yaml"
reject "negative: the production rendering without its CURVE Secret" "volume curve: no Secret sb-curve" -- \
  "${VALIDATE[@]}" k8s --external-secret sb-redis "$T/production.yaml"
# CURVE: the key files the SB_*CURVE*_FILE variables name must be files of
# the mounted Secret sb-curve (mount path, items, Secret keys).
sed '0,/mountPath: \/etc\/switchboard\/curve$/s//mountPath: \/etc\/switchboard\/keys/' "$T/dev.yaml" > "$T/dev-curve-mount.yaml"
reject "negative: CURVE Secret mounted elsewhere than the key files' paths" \
  "env SB_CURVE_SECRET_KEY_FILE /etc/switchboard/curve/bus.key is not in a mounted Secret volume" -- \
  "${VALIDATE[@]}" k8s "$T/dev-curve-mount.yaml"
sed '0,/path: edge-clients$/s//path: edge-clients.txt/' "$T/dev.yaml" > "$T/dev-curve-item.yaml"
reject "negative: an edge key file the Secret volume does not project" \
  "env SB_EDGE_CURVE_CLIENTS_FILE /etc/switchboard/curve/edge-clients: the Secret volume curve has no item edge-clients" -- \
  "${VALIDATE[@]}" k8s "$T/dev-curve-item.yaml"
sed '0,/^  edge.key: |$/s//  edge-key: |/' "$T/dev.yaml" > "$T/dev-curve-key.yaml"
reject "negative: a key file missing from the Secret sb-curve" "Secret sb-curve has no key edge.key" -- \
  "${VALIDATE[@]}" k8s "$T/dev-curve-key.yaml"
awk '/name: SB_EDGE_CURVE_SECRET_KEY_FILE/ { skip = 2 } skip > 0 { skip--; next } { print }' "$T/dev.yaml" > "$T/dev-curve-off.yaml"
reject "negative: the publish door or feed without CURVE" \
  "SB_EDGE_CURVE_SECRET_KEY_FILE is not set (CURVE must be on in the manifests)" -- \
  "${VALIDATE[@]}" k8s "$T/dev-curve-off.yaml"

# ---- alert rules -----------------------------------------------------------------
check "promtool check rules docker/k8s/alerts.yaml" promtool check rules "$K8S/alerts.yaml"
check "promtool test rules docker/k8s/alerts_test.yaml" promtool test rules "$K8S/alerts_test.yaml"

# ---- Dockerfile --------------------------------------------------------------------
DF=docker/Dockerfile
check "dockerfilelint docker/Dockerfile" "$HERE/node_modules/.bin/dockerfilelint" -c "$HERE" "$DF"
needed_args=()
bins=(sb-ingest sb-classify sb-route sb-sla-timer sb-notify sbctl)
needed() { # "package soname" for every NEEDED entry of the built binaries
  local b so lib
  for b in "${bins[@]}"; do
    ldd "$BIN/$b" > "$T/ldd"
    for so in $(readelf -d "$BIN/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      lib=$(awk -v s="$so" '$1 == s { print $3 }' "$T/ldd")
      echo "$so $lib $(readlink -f "$lib")"
    done
  done | sort -u > "$T/libs"
  # one dpkg query for all (each path as linked and as resolved: usrmerge)
  # shellcheck disable=SC2046
  dpkg -S $(awk '{ print $2; print $3 }' "$T/libs" | sort -u) 2> /dev/null |
    sed -E 's/^([^: ]+)(:[^: ]+)?: /\1 /' > "$T/owners"  # "pkg:arch: path" or "pkg: path"
  awk 'NR == FNR { owner[$2] = $1; next }
       { p = ($2 in owner) ? owner[$2] : (($3 in owner) ? owner[$3] : "(no-package)"); print p, $1 }' \
    "$T/owners" "$T/libs" | sort -u
}
have_bins=1
for b in "${bins[@]}"; do [ -x "$BIN/$b" ] || have_bins=0; done
if [ "$have_bins" = 1 ] && command -v readelf > /dev/null && needed > "$T/needed"; then
  needed_args=(--needed "$T/needed")
else
  skip "runtime libraries against the binaries' NEEDED entries (no binaries in $BIN)"
fi
check "Dockerfile: stages, USER, exec form, HEALTHCHECK, deps list, runtime libraries" \
  "${VALIDATE[@]}" dockerfile --deps deps/debian-packages.txt "${needed_args[@]}" "$DF"
grep -v '^USER ' "$DF" > "$T/Dockerfile.nouser"
reject "negative: Dockerfile without USER" "has no USER" -- \
  "${VALIDATE[@]}" dockerfile --deps deps/debian-packages.txt "$T/Dockerfile.nouser"
sed 's|^ENTRYPOINT \[.*\]$|ENTRYPOINT /usr/local/bin/sb-service|' "$DF" > "$T/Dockerfile.shellform"
reject "negative: Dockerfile with a shell-form ENTRYPOINT" "ENTRYPOINT must be in exec form" -- \
  "${VALIDATE[@]}" dockerfile --deps deps/debian-packages.txt "$T/Dockerfile.shellform"
sed 's|^WORKDIR /src$|WORKDIR /src\nRUN apt-get update \&\& apt-get install -y --no-install-recommends curl|' "$DF" \
  > "$T/Dockerfile.extra"
reject "negative: Dockerfile whose build stage installs a package not in the deps list" \
  "build stage installs curl, which is not in deps/debian-packages.txt" -- \
  "${VALIDATE[@]}" dockerfile --deps deps/debian-packages.txt "$T/Dockerfile.extra"
check "bash -n docker/healthcheck.sh docker/loadgen.sh" \
  bash -c 'bash -n docker/healthcheck.sh && bash -n docker/loadgen.sh'

# ---- compose ---------------------------------------------------------------------
check "compose: SB_* options, healthchecks, dependencies" "${VALIDATE[@]}" compose docker/compose.yaml
sed 's/SB_NEXT: tcp:\/\/route:5561/SB_NXT: tcp:\/\/route:5561/' docker/compose.yaml > "$T/compose-typo.yaml"
reject "negative: compose with a misspelled SB_* variable" "environment SB_NXT: no such option" -- \
  "${VALIDATE[@]}" compose "$T/compose-typo.yaml"
if command -v docker-compose > /dev/null; then
  # docker-compose's own schema (offline: `config` does not talk to a daemon)
  check "docker-compose config (compose schema)" \
    docker-compose --project-directory "$ROOT/docker" -f docker/compose.yaml --profile load config -q
  sed 's/^    restart: "no"$/    restrat: "no"/' docker/compose.yaml > "$T/compose-key.yaml"
  reject "negative: compose with a misspelled key" "restrat" -- \
    docker-compose --project-directory "$ROOT/docker" -f "$T/compose-key.yaml" config -q
else
  skip "docker-compose config (docker-compose not installed)"
fi

echo "deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
