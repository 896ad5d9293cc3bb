#!/usr/bin/env bash
# Builds ghz (github.com/bojand/ghz), the gRPC load generator bench/routerGrpc.ts drives, from its
# Go module into the cache, keyed by version. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/ghz/$GHZ_VERSION"
if [ -x "$out/ghz" ]; then echo "$out/ghz"; exit 0; fi
mkdir -p "$out"
GOTOOLCHAIN=local GOBIN="$out" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" >&2
echo "$out/ghz"
