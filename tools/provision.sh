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
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Docker: Debian's docker.io, dockerd started when none runs (CI starts with none), the OCI runtime
# shim only where the capability bounding set lacks a capability (tools/docker.sh).
stamp "Docker (docker.io, dockerd)"
bash "$here/docker.sh"
stamp "kube-apiserver and etcd (Go modules)"
bash "$here/build-kube.sh"
stamp "kind (Go modules)"
bash "$here/install-kind.sh"
stamp "code-server (npm, Node 24)"
bash "$here/install-code-server.sh"

stamp "MLServer Python environment (the CLI's own setup)"
[ -f "$root/dist/cli.js" ] || (cd "$root" && node esbuild.mjs)
node "$root/dist/cli.js" setup
stamp "done"
