#!/usr/bin/env bash
# Builds the real kind binary from Go modules into the cache, keyed by version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/kind/$KIND_VERSION"
if [ -x "$out/kind" ]; then echo "$out/kind"; exit 0; fi
mkdir -p "$out"
GOTOOLCHAIN=local GOBIN="$out" go install "sigs.k8s.io/kind@$KIND_VERSION" >&2
echo "$out/kind"
