#!/usr/bin/env bash
# Provisions every real part the test tiers run against, idempotently and cached outside
# the checkout (${MODEL_CANARY_CACHE:-~/.cache/model-canary}); a warm run takes seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stamp() { printf '[provision %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Debian packages: Chromium for the e2e tier, libkrb5-dev for code-server's native modules.
missing=()
for pkg in chromium libkrb5-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  stamp "apt-get install ${missing[*]}"
  bash "$here/apt.sh" update -qq
  bash "$here/apt.sh" install -y -qq "${missing[@]}" >/dev/null
fi

# Docker: Debian's docker.io, dockerd started when none runs (CI starts with none), the OCI runtime
# shim only where the capability bounding set lacks a capability (tools/docker.sh).
stamp "Docker (docker.io, dockerd)"
bash "$here/docker.sh"
# The kind node image builds in the background from here on (Go builds, debootstrap, docker
# import) while the rest installs; build-kube.sh's lock keeps the two from building the same
# binary. Its log is in the cache.
logs="${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}/provision"
mkdir -p "$logs"
stamp "kind node image, offline, in the background (tools/kind-node/build.sh; log: $logs/kind-node.log)"
bash "$here/kind-node/build.sh" >"$logs/kind-node.log" 2>&1 &
node_image_pid=$!
stamp "kube-apiserver and etcd (Go modules)"
bash "$here/build-kube.sh"
stamp "kind (Go modules)"
bash "$here/install-kind.sh"
stamp "code-server (npm, Node 24)"
bash "$here/install-code-server.sh"

stamp "MLServer Python environment (the CLI's own setup)"
[ -f "$root/dist/cli.js" ] || (cd "$root" && node esbuild.mjs)
# with the XGBoost and LightGBM runtimes, which deploy otherwise installs on first use
node "$root/dist/cli.js" setup --runtime xgboost --runtime lightgbm
stamp "tritonclient[grpc,http] for the router's client tests (tools/install-tritonclient.sh)"
bash "$here/install-tritonclient.sh"
stamp "Debian's prometheus (promtool) and Alertmanager (Go module) for the monitoring tests"
bash "$here/install-prometheus.sh"
bash "$here/install-alertmanager.sh" >/dev/null
stamp "nginx-light and wrk for the bench guard's router ÷ nginx ratio (tools/install-bench-tools.sh)"
bash "$here/install-bench-tools.sh" >/dev/null
stamp "mlserver-alibi-detect for bring-your-own detectors (tools/install-alibi-detect.sh)"
bash "$here/install-alibi-detect.sh"
stamp "the stack's images, offline (tools/images/build.sh)"
bash "$here/images/build.sh"
stamp "waiting for the kind node image"
if ! wait "$node_image_pid"; then
  tail -30 "$logs/kind-node.log" >&2
  echo "[provision] building the kind node image failed; the whole log is $logs/kind-node.log" >&2
  exit 1
fi
tail -1 "$logs/kind-node.log"
stamp "done"
